// The Agent's settings: explicit options win, then the environment (AGENT_ID, AGENT_TOKEN, PIOPIY_SIGNALING_URL),
// then the defaults. Every problem is reported at once, in one ConfigurationError.
import { ConfigurationProblems, credentialProblem, describeValue, urlProblem } from '../runtime/configuration-error.js';

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
}

const SIGNALING_PROTOCOLS = ['https:', 'http:', 'wss:', 'ws:'];

/** Resolves the settings or throws a ConfigurationError naming every missing or invalid one. */
export function resolveAgentSettings(options: AgentSettingsInput, env: NodeJS.ProcessEnv = process.env): ResolvedAgentSettings {
  const problems = new ConfigurationProblems('Agent');
  const credential = (option: 'agentId' | 'agentToken', variable: string, purpose: string): string => {
    const value = options[option] ?? env[variable];
    if (value === undefined || value === '') problems.add({ variable, option, purpose, problem: 'missing' });
    else {
      const detail = credentialProblem(value);
      if (detail !== undefined) problems.add({ variable, option, purpose, problem: 'invalid', detail });
    }
    return typeof value === 'string' ? value : '';
  };
  const agentId = credential('agentId', 'AGENT_ID', "the AI agent's id from the Piopiy dashboard");
  const agentToken = credential('agentToken', 'AGENT_TOKEN', "the AI agent's secret token from the Piopiy dashboard");

  // An empty PIOPIY_SIGNALING_URL (a blank line in .env) means "not set", not "invalid".
  const signalingUrl = options.signalingUrl ?? (env.PIOPIY_SIGNALING_URL || undefined) ?? DEFAULT_SIGNALING_URL;
  const urlDetail = urlProblem(signalingUrl, SIGNALING_PROTOCOLS);
  if (urlDetail !== undefined) {
    problems.add({
      variable: 'PIOPIY_SIGNALING_URL',
      option: 'signalingUrl',
      purpose: "the Piopiy signaling server's address",
      problem: 'invalid',
      detail: urlDetail,
    });
  }

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
  const { maxSessions, connectTimeoutMs } = options;
  if (maxSessions !== undefined && !(typeof maxSessions === 'number' && Number.isInteger(maxSessions) && maxSessions >= 1)) {
    problems.add({
      option: 'maxSessions',
      purpose: 'the most calls served at once',
      problem: 'invalid',
      detail: `must be an integer >= 1, got ${describeValue(maxSessions)}`,
    });
  }
  if (connectTimeoutMs !== undefined && !(typeof connectTimeoutMs === 'number' && Number.isFinite(connectTimeoutMs) && connectTimeoutMs > 0)) {
    problems.add({
      option: 'connectTimeoutMs',
      purpose: 'how long connect() waits for the signaling server',
      problem: 'invalid',
      detail: `must be a positive number of milliseconds, got ${describeValue(connectTimeoutMs)}`,
    });
  }
  problems.throwIfAny();
  return { agentId, agentToken, signalingUrl: signalingUrl as string };
}
