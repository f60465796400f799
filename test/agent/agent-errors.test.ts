// Errors a new user meets first: every missing or invalid Agent setting in one ConfigurationError, settings read
// from the environment, and `connect()` failures in one line that names the cause (never socket.io's XHR dump).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AGENT_CONNECT_CHANNEL, Agent, type AgentOptions } from '../../src/agent/index.js';
import { SignalingConnectionError, signalingConnectionError, transportCause } from '../../src/agent/signaling-error.js';
import { silentLogger } from '../../src/logging/index.js';
import { ConfigurationError } from '../../src/runtime/configuration-error.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';

const quiet = { logger: silentLogger, handleSignals: false, prewarmVAD: false } as const;
const noSession = (): void => undefined;

function configurationError(options: Partial<AgentOptions>): ConfigurationError {
  try {
    new Agent(options as AgentOptions);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

async function connectError(agent: Agent): Promise<SignalingConnectionError> {
  const error: unknown = await agent.connect().then(
    () => new Error('connect() resolved'),
    (e: unknown) => e,
  );
  if (error instanceof SignalingConnectionError) return error;
  throw error;
}

beforeEach(() => {
  for (const name of ['AGENT_ID', 'AGENT_TOKEN', 'PIOPIY_SIGNALING_URL']) vi.stubEnv(name, undefined);
});
afterEach(() => vi.unstubAllEnvs());

describe('Agent settings', () => {
  it('lists every missing setting at once, with what each is for', () => {
    const error = configurationError({});
    expect(error.component).toBe('Agent');
    expect(error.problems).toEqual([
      { variable: 'AGENT_ID', option: 'agentId', purpose: "the AI agent's id from the Piopiy dashboard", problem: 'missing' },
      { variable: 'AGENT_TOKEN', option: 'agentToken', purpose: "the AI agent's secret token from the Piopiy dashboard", problem: 'missing' },
      { option: 'createSession', purpose: 'the function that runs one call', problem: 'missing' },
    ]);
    expect(error.message).toBe(
      [
        'Agent: 3 settings are missing:',
        "  AGENT_ID — the AI agent's id from the Piopiy dashboard (Agent option agentId): not set",
        "  AGENT_TOKEN — the AI agent's secret token from the Piopiy dashboard (Agent option agentToken): not set",
        '  Agent option createSession — the function that runs one call: not set',
        "Set the variables in the environment (or in a .env file loaded with `import 'dotenv/config'`), or pass the options.",
      ].join('\n'),
    );
    // `env.AGENT_ID ?? ''`, as older examples wrote it, is missing too.
    expect(configurationError({ agentId: '', agentToken: '', createSession: noSession }).problems.map((p) => p.variable)).toEqual([
      'AGENT_ID',
      'AGENT_TOKEN',
    ]);
  });

  it('lists invalid values with the reason, never a token', () => {
    const token = 'secret-token-value';
    const error = configurationError({
      agentId: 'agent-1',
      agentToken: `${token}\n`,
      signalingUrl: 'signaling.piopiy.com',
      createSession: 'run' as unknown as AgentOptions['createSession'],
      maxSessions: 0,
      connectTimeoutMs: -5,
    });
    expect(error.problems.map((p) => [p.option, p.problem, p.detail])).toEqual([
      ['agentToken', 'invalid', 'has spaces or a line break at its start or end'],
      ['signalingUrl', 'invalid', 'is not a URL: "signaling.piopiy.com"'],
      ['createSession', 'invalid', 'must be a function, got string'],
      ['maxSessions', 'invalid', 'must be an integer >= 1, got 0'],
      ['connectTimeoutMs', 'invalid', 'must be a positive number of milliseconds, got -5'],
    ]);
    expect(error.message.split('\n')[0]).toBe('Agent: 5 settings are invalid:');
    expect(error.message).not.toContain(token);
    expect(configurationError({ agentId: 'a', agentToken: 't', createSession: noSession, signalingUrl: 'ftp://x' }).message).toContain(
      'PIOPIY_SIGNALING_URL — the Piopiy signaling server\'s address (Agent option signalingUrl): must start with https:// or http:// or wss:// or ws://, got ftp://',
    );
  });

  it('reads AGENT_ID, AGENT_TOKEN and PIOPIY_SIGNALING_URL when the options are omitted; explicit options win', async () => {
    const sim: PiopiySimulator = await startPiopiySimulator();
    const agents: Agent[] = [];
    try {
      sim.addAgent({ agentId: 'env-agent', token: 'env-token' });
      sim.addAgent({ agentId: 'explicit-agent', token: 'explicit-token' });
      vi.stubEnv('AGENT_ID', 'env-agent');
      vi.stubEnv('AGENT_TOKEN', 'env-token');
      vi.stubEnv('PIOPIY_SIGNALING_URL', sim.signalingUrl);
      agents.push(new Agent({ createSession: noSession, ...quiet }));
      await agents[0]!.connect();
      agents.push(new Agent({ agentId: 'explicit-agent', agentToken: 'explicit-token', createSession: noSession, ...quiet }));
      await agents[1]!.connect();
      expect(sim.connectedAgents().sort()).toEqual(['env-agent', 'explicit-agent']);
      // An explicit signalingUrl wins over the environment's.
      const elsewhere = new Agent({ signalingUrl: 'http://127.0.0.1:1', createSession: noSession, ...quiet });
      expect((await connectError(elsewhere)).url).toBe('http://127.0.0.1:1');
    } finally {
      for (const agent of agents) await agent.shutdown({ drainMs: 0 });
      await sim.close();
    }
  });
});

describe('Agent.connect() failures', () => {
  const base = { agentId: 'agent-1', agentToken: 'token-1', createSession: noSession, ...quiet };

  it('a closed port: one line naming the refused connection, the socket.io error kept as the cause', async () => {
    const error = await connectError(new Agent({ ...base, signalingUrl: 'http://127.0.0.1:1' }));
    expect(error.message).toBe('Agent: could not reach Piopiy signaling at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    expect(error.failure).toBe('unreachable');
    expect((error.cause as { type?: string }).type).toBe('TransportError');
  });

  it('a name that does not resolve: the DNS error', async () => {
    const error = await connectError(new Agent({ ...base, signalingUrl: 'http://piopiy.invalid', connectTimeoutMs: 5000 }));
    // ENOTFOUND where DNS answers; EAI_AGAIN, or the connect timeout, where no resolver answers.
    expect(error.message).toMatch(
      /^Agent: could not reach Piopiy signaling at http:\/\/piopiy\.invalid: (getaddrinfo (ENOTFOUND|EAI_AGAIN) piopiy\.invalid|no answer within 5000 ms)$/,
    );
  });

  it('a web server that is not Socket.IO: its HTTP status', async () => {
    const server: Server = createHttpServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await connectError(new Agent({ ...base, signalingUrl: url }));
      expect(error.message).toBe(`Agent: could not reach Piopiy signaling at ${url}: HTTP 404 (is this the address of a Piopiy signaling server?)`);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('a server that never answers: the timeout', async () => {
    const held = new Set<Socket>();
    const silent = createTcpServer((socket) => void held.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const error = await connectError(new Agent({ ...base, signalingUrl: url, connectTimeoutMs: 300 }));
      expect(error.message).toBe(`Agent: could not reach Piopiy signaling at ${url}: no answer within 300 ms`);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('refused credentials: the server\'s reason and what to check', async () => {
    const sim = await startPiopiySimulator();
    try {
      sim.addAgent({ agentId: 'agent-1', token: 'token-1' });
      const error = await connectError(new Agent({ ...base, agentToken: 'wrong', signalingUrl: sim.signalingUrl }));
      expect(error.message).toBe('Agent: Piopiy signaling refused agent agent-1: invalid agent credentials (check AGENT_ID and AGENT_TOKEN)');
      expect(error.failure).toBe('refused');
    } finally {
      await sim.close();
    }
  });

  it('announces connect() on its process-wide channel (how the CLI tells a file that never connects)', async () => {
    const seen: unknown[] = [];
    const listener = (message: unknown): void => void seen.push(message);
    subscribe(AGENT_CONNECT_CHANNEL, listener);
    try {
      await connectError(new Agent({ ...base, signalingUrl: 'http://127.0.0.1:1' }));
    } finally {
      unsubscribe(AGENT_CONNECT_CHANNEL, listener);
    }
    expect(seen).toEqual([{ agentId: 'agent-1' }]);
  });
});

describe('the root cause of a socket.io connect_error', () => {
  const at = { url: 'https://signaling.piopiy.com', agentId: 'agent-1', timeoutMs: 10_000 };

  it('digs it out of each transport\'s shape', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND signaling.piopiy.com'), { code: 'ENOTFOUND' });
    // polling (xmlhttprequest-ssl): status 0, the socket error in the XHR's statusText
    expect(transportCause({ message: 'xhr poll error', description: 0, context: { status: 0, statusText: dns } })).toBe(dns.message);
    // websocket (ws): an ErrorEvent carrying the error
    expect(transportCause({ message: 'websocket error', description: { message: dns.message, error: dns } })).toBe(dns.message);
    // polling over fetch: undici's "fetch failed" with the socket error as its cause
    expect(transportCause({ message: 'fetch read error', description: new TypeError('fetch failed', { cause: dns }) })).toBe(dns.message);
    // a host with several addresses: an AggregateError without a message of its own
    const both = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:443'), new Error('connect ECONNREFUSED 127.0.0.1:443')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(transportCause({ message: 'xhr poll error', description: 0, context: { statusText: both } })).toBe(
      'connect ECONNREFUSED ::1:443; connect ECONNREFUSED 127.0.0.1:443',
    );
    // OpenSSL's messages end with a line break; the result is one line
    expect(transportCause({ message: 'websocket error', description: { message: 'write EPROTO ssl3_get_record:wrong version number:\n' } })).toBe(
      'write EPROTO ssl3_get_record:wrong version number:',
    );
    expect(transportCause({ message: 'xhr poll error', description: 502, context: { status: 502, statusText: null } })).toBe(
      'HTTP 502 (is this the address of a Piopiy signaling server?)',
    );
    expect(transportCause({ message: 'xhr poll error' })).toBe('xhr poll error');
  });

  it('tells unreachable from refused', () => {
    const transport = Object.assign(new Error('xhr poll error'), { type: 'TransportError', description: 0, context: { statusText: new Error('connect ECONNREFUSED 10.0.0.1:443') } });
    expect(signalingConnectionError(transport, at).message).toBe(
      'Agent: could not reach Piopiy signaling at https://signaling.piopiy.com: connect ECONNREFUSED 10.0.0.1:443',
    );
    expect(signalingConnectionError(new Error('timeout'), at).message).toBe(
      'Agent: could not reach Piopiy signaling at https://signaling.piopiy.com: no answer within 10000 ms',
    );
    const refused = signalingConnectionError(new Error(''), at);
    expect([refused.failure, refused.message]).toEqual(['refused', 'Agent: Piopiy signaling refused agent agent-1: no reason given (check AGENT_ID and AGENT_TOKEN)']);
  });
});
