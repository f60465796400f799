# syntax=docker/dockerfile:1
# A production image of a piopiy-ai agent: `piopiy-ai start` with the operations endpoints on 8081.
#   docker build -t my-agent --build-arg AGENT_FILE=examples/quick-start.ts .
#   docker build --build-arg OFFLINE_ENGINES=true ...   # adds PocketSphinx (offline STT) and espeak-ng
# See docs/deploy.md.

# ---- build: compile the package and pack it as users install it --------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm pack --pack-destination /dist && mv /dist/piopiy-ai-*.tgz /dist/piopiy-ai.tgz

# ---- runtime: production dependencies only, non-root -------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ARG OFFLINE_ENGINES=false
ARG AGENT_FILE=examples/quick-start.ts
# Offline engines are Debian packages: PocketSphinx loads in-process through koffi; espeak-ng (GPL) only ever runs
# as a separate process.
RUN if [ "$OFFLINE_ENGINES" = "true" ]; then \
      apt-get update && \
      apt-get install -y --no-install-recommends libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us espeak-ng && \
      rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /app
COPY --from=build /dist/piopiy-ai.tgz /tmp/piopiy-ai.tgz
# An ES module project, as `piopiy-ai init` makes: agent files use import and top-level await.
RUN npm init -y >/dev/null && npm pkg set type=module && npm install --omit=dev --no-audit --no-fund /tmp/piopiy-ai.tgz && rm /tmp/piopiy-ai.tgz
# One fixed name, so the command below needs no shell (tsx runs JavaScript in a .ts file too).
COPY --chown=node:node ${AGENT_FILE} /app/agent.ts
ENV NODE_ENV=production \
    PIOPIY_OPERATIONS_PORT=8081 \
    PIOPIY_OPERATIONS_HOST=0.0.0.0
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and the Agent handles SIGTERM itself: it stops taking calls and drains (PIOPIY_DRAIN_SECS).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/node_modules/piopiy-ai/dist/cli/main.js", "start"]
CMD ["/app/agent.ts"]
