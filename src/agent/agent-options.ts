// The Agent's settings: explicit options win, then the environment (AGENT_ID, AGENT_TOKEN, PIOPIY_SIGNALING_URL),
// then the defaults. Every problem is reported at once, in one ConfigurationError.
import { ConfigurationProblems } from '../runtime/configuration-error.js';

export const DEFAULT_SIGNALING_URL = 'https://signaling.piopiy.com';

/** What the Agent reads; `agentId`, `agentToken` and `signalingUrl` are resolved. */
export interface ResolvedAgentSettings {
  agentId: string;
  agentToken: string;
  signalingUrl: string;
}

interface AgentSettingsInput {
  agentId?: unknown;
  agentToken?: unknown;
  signalingUrl?: unknown;
  createSession?: unknown;
  maxSessions?: unknown;
  connectTimeoutMs?: unknown;
  drainMs?: unknown;
}

const SIGNALING_PROTOCOLS = ['https:', 'http:', 'wss:', 'ws:'];

/** Resolves the settings or throws a ConfigurationError naming every missing or invalid one. */
export function resolveAgentSettings(options: AgentSettingsInput, env: NodeJS.ProcessEnv = process.env): ResolvedAgentSettings {
  const problems = new ConfigurationProblems('Agent');
  const agentId = problems.credential(options.agentId ?? env.AGENT_ID, {
    option: 'agentId',
    variable: 'AGENT_ID',
    purpose: "the AI agent's id from the Piopiy dashboard",
  });
  const agentToken = problems.credential(options.agentToken ?? env.AGENT_TOKEN, {
    option: 'agentToken',
    variable: 'AGENT_TOKEN',
    purpose: "the AI agent's secret token from the Piopiy dashboard",
  });
  // An empty PIOPIY_SIGNALING_URL (a blank line in .env) means "not set", not "invalid".
  const signalingUrl = problems.url(options.signalingUrl ?? (env.PIOPIY_SIGNALING_URL || undefined) ?? DEFAULT_SIGNALING_URL, SIGNALING_PROTOCOLS, {
    option: 'signalingUrl',
    variable: 'PIOPIY_SIGNALING_URL',
    purpose: "the Piopiy signaling server's address",
  });

  if (options.createSession === undefined) {
    problems.add({ option: 'createSession', purpose: 'the function that runs one call', problem: 'missing' });
  } else if (typeof options.createSession !== 'function') {
    problems.add({
      option: 'createSession',
      purpose: 'the function that runs one call',
      problem: 'invalid',
      detail: `must be a function, got ${typeof options.createSession}`,
    });
  }
  problems.number(
    options.maxSessions,
    { option: 'maxSessions', purpose: 'the most calls served at once' },
    (n) => Number.isInteger(n) && n >= 1,
    'an integer >= 1',
  );
  problems.number(
    options.connectTimeoutMs,
    { option: 'connectTimeoutMs', purpose: 'how long connect() waits for the signaling server' },
    (n) => Number.isFinite(n) && n > 0,
    'a positive number of milliseconds',
  );
  problems.number(
    options.drainMs,
    { option: 'drainMs', purpose: 'how long a shutdown lets calls finish' },
    (n) => Number.isFinite(n) && n >= 0,
    'a number of milliseconds >= 0',
  );
  problems.throwIfAny();
  return { agentId, agentToken, signalingUrl };
}
