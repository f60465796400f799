// The deployment files: every Kubernetes manifest in deploy/ validated against the Kubernetes OpenAPI schemas
// (kubernetes-models), the manifests agreeing with each other and with the agent, and the Dockerfile's structure
// (no Docker engine here: it is parsed, not built).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPERATIONS_PORT } from '../../src/cli/start-options.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Validatable {
  validate(): void;
}

const files = readdirSync('deploy').filter((f) => f.endsWith('.yaml'));
const manifests: { file: string; manifest: Manifest }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join('deploy', file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    return { file, manifest: doc.toJS() as Manifest };
  }),
);

/** The kubernetes-models class of each apiVersion and kind used; a manifest of another kind fails the test. */
const MODELS: Record<string, new (data: never) => Validatable> = {
  'apps/v1 Deployment': Deployment,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 ConfigMap': ConfigMap,
  'v1 Secret': Secret,
  'v1 Service': Service,
};

function modelOf(manifest: Manifest): new (data: unknown) => Validatable {
  const model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
  if (model === undefined) throw new Error(`no schema here for ${manifest.apiVersion} ${manifest.kind}: add its kubernetes-models class`);
  return model as new (data: unknown) => Validatable;
}

function one(kind: string, name?: string): Manifest {
  const found = manifests.filter(({ manifest }) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!.manifest;
}

describe('deploy/ manifests', () => {
  it('are all valid against the Kubernetes OpenAPI schemas', async () => {
    expect(manifests.map((m) => m.manifest.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service', 'Service'],
    );
    for (const { file, manifest } of manifests) {
      const Model = modelOf(manifest);
      expect(() => new Model(manifest).validate(), `${file}: ${manifest.kind}`).not.toThrow();
    }
  });

  it('would catch a broken manifest (the validation can fail)', async () => {
    const deployment = structuredClone(one('Deployment'));
    (deployment.spec as { replicas: unknown }).replicas = 'two';
    const Model = modelOf(deployment);
    expect(() => new Model(deployment).validate()).toThrow();
  });

  it('agree with each other and with the agent: probes, drain, grace period, scaling, selectors', () => {
    const deployment = one('Deployment', 'piopiy-agent');
    type Container = {
      ports: { name: string; containerPort: number }[];
      env: { name: string; value?: string }[];
      livenessProbe: { httpGet: { path: string; port: string } };
      readinessProbe: { httpGet: { path: string; port: string } };
      startupProbe: { httpGet: { path: string; port: string } };
      lifecycle: { preStop: { exec: { command: string[] } } };
    };
    const pod = (deployment.spec as { template: { metadata: { labels: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; containers: Container[] } } }).template;
    const container = pod.spec.containers[0]!;
    const operationsPort = container.ports.find((p) => p.name === 'operations');
    expect(operationsPort?.containerPort).toBe(DEFAULT_OPERATIONS_PORT);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'operations' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'operations' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'operations' });
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(env.PIOPIY_OPERATIONS_HOST).toBe('0.0.0.0');
    const drainSecs = Number(env.PIOPIY_DRAIN_SECS);
    expect(drainSecs).toBeGreaterThanOrEqual(1800); // a long call: half an hour at least
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSecs);
    expect(container.lifecycle.preStop.exec.command.join(' ')).toMatch(/kill -TERM 1/);

    const labels = pod.metadata.labels;
    const matches = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(matches((deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels)).toBe(true);
    expect(matches((one('PodDisruptionBudget').spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels)).toBe(true);
    for (const name of ['piopiy-agent-operations', 'piopiy-agent-stream']) {
      expect(matches((one('Service', name).spec as { selector: Record<string, string> }).selector)).toBe(true);
    }
    expect(one('Service', 'piopiy-agent-stream').spec).toMatchObject({ sessionAffinity: 'ClientIP' });

    const hpa = one('HorizontalPodAutoscaler').spec as { scaleTargetRef: { kind: string; name: string }; metrics: { pods: { metric: { name: string } } }[] };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'piopiy-agent' });
    expect(hpa.metrics[0]?.pods.metric.name).toBe('piopiy_active_calls');
    expect(String(one('ConfigMap').data && (one('ConfigMap').data as Record<string, string>)['config.yaml'])).toContain('piopiy_active_calls');
  });
});

describe('Dockerfile', () => {
  const lines = readFileSync('Dockerfile', 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const instructions = lines.map((l) => ({ op: l.split(/\s+/)[0]!.toUpperCase(), args: l.slice(l.indexOf(' ') + 1).trim() }));

  it('builds in stages on Debian slim Node 20 and runs as a non-root user', () => {
    const stages = instructions.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:20-(bookworm|bullseye|trixie)-slim AS \w+$/);
    const runtimeStart = instructions.findLastIndex((i) => i.op === 'FROM');
    expect(instructions.slice(runtimeStart).some((i) => i.op === 'COPY' && i.args.startsWith('--from='))).toBe(true);
    const users = instructions.slice(runtimeStart).filter((i) => i.op === 'USER').map((i) => i.args);
    expect(users.at(-1)).toBeDefined();
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(instructions.findIndex((i, n) => n > runtimeStart && i.op === 'USER')).toBeLessThan(instructions.findIndex((i) => i.op === 'ENTRYPOINT'));
  });

  it('serves the operations endpoints, checks health on them, and runs piopiy-ai start', () => {
    expect(instructions.some((i) => i.op === 'EXPOSE' && i.args === String(DEFAULT_OPERATIONS_PORT))).toBe(true);
    const healthcheck = instructions.find((i) => i.op === 'HEALTHCHECK');
    expect(healthcheck?.args).toContain(`http://127.0.0.1:${DEFAULT_OPERATIONS_PORT}/healthz`);
    const entrypoint = JSON.parse(instructions.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    expect(entrypoint[0]).toBe('node'); // PID 1 is node, so SIGTERM reaches the Agent's drain
    expect(entrypoint.slice(-2)).toEqual(['/app/node_modules/piopiy-ai/dist/cli/main.js', 'start']);
    expect(instructions.find((i) => i.op === 'STOPSIGNAL')?.args).toBe('SIGTERM');
  });

  it('installs the offline engines only when the build argument asks for them', () => {
    expect(instructions.some((i) => i.op === 'ARG' && i.args === 'OFFLINE_ENGINES=false')).toBe(true);
    const install = instructions.find((i) => i.op === 'RUN' && i.args.includes('apt-get install'));
    expect(install?.args).toMatch(/if \[ "\$OFFLINE_ENGINES" = "true" \]/);
    expect(install?.args).toContain('libpocketsphinx3');
  });
});
