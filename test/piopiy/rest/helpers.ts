// Test helpers: a node:http server on 127.0.0.1 (ephemeral port) around any request listener, and the
// simulator's REST listener with simple handlers that record what reached them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../../src/logging/index.js';
import { RestClient, type RestClientOptions } from '../../../src/piopiy/rest/index.js';
import {
  createSimulatorRestApi,
  type SimResult,
  type SimulatorRestApi,
  type SimulatorRestHandlers,
} from '../../../src/testing/simulator/rest-api.js';

export const TOKEN = 'test-token-7f3a9c2e5b';
export const CALL_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
export const AGENT_ID = '0b4e7c7a-5d1f-4a0e-9f61-2f0f4bde1a11';
export const AGENT_ID_2 = '9a1c5e33-77b2-4c8d-8e2f-6b3a1d0c9e22';
export const FLOW_ID = 'c7d8e9f0-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
export const ORG_ID = 'd1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6';

export interface TestServer {
  url: string;
  /** Requests seen by the server, with their headers. */
  seen: { method: string; path: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

export async function startServer(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const seen: TestServer['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HandlerCall {
  handler: Exclude<keyof SimulatorRestHandlers, 'isValidToken'>;
  args: unknown[];
}

/** Handlers that accept everything with `{ message: 'queued', ... }` and record their arguments. */
export function recordingHandlers(calls: HandlerCall[], overrides: Partial<SimulatorRestHandlers> = {}): SimulatorRestHandlers {
  const queued = (extra: Record<string, unknown>): SimResult => ({ status: 200, body: { message: 'queued', ...extra } });
  return {
    isValidToken: (token) => token === TOKEN,
    transfer: (callId, pipeline) => {
      calls.push({ handler: 'transfer', args: [callId, pipeline] });
      return queued({ call_id: callId, request_id: 'req-1' });
    },
    hangup: (callId, cause, reason) => {
      calls.push({ handler: 'hangup', args: [callId, cause, reason] });
      return queued({ call_id: callId });
    },
    call: (kind, body) => {
      calls.push({ handler: 'call', args: [kind, body] });
      return queued({ call_id: CALL_ID });
    },
    warmTransfer: (callId, body) => {
      calls.push({ handler: 'warmTransfer', args: [callId, body] });
      return queued({ call_id: callId, request_id: 'req-warm' });
    },
    transferStatus: (requestId) => {
      calls.push({ handler: 'transferStatus', args: [requestId] });
      return { status: 200, body: { request_id: requestId, call_id: CALL_ID, status: 'failed', reason: 'no_answer' } };
    },
    callStatus: (callId) => {
      calls.push({ handler: 'callStatus', args: [callId] });
      return { status: 200, body: { call_id: callId, status: 'in-progress' } };
    },
    balance: () => {
      calls.push({ handler: 'balance', args: [] });
      return { status: 200, body: { balance: 42.5 } };
    },
    createAgent: (body) => {
      calls.push({ handler: 'createAgent', args: [body] });
      return { status: 200, body: { id: 'agent_1', name: body.name, status: 'active', agent_token: 'agt_secret' } };
    },
    listAgents: () => {
      calls.push({ handler: 'listAgents', args: [] });
      return { status: 200, body: { agents: [] } };
    },
    deleteAgent: (agentId) => {
      calls.push({ handler: 'deleteAgent', args: [agentId] });
      return { status: 200, body: { message: 'deleted', id: agentId } };
    },
    routeNumber: (body) => {
      calls.push({ handler: 'routeNumber', args: [body] });
      return { status: 200, body: { ...body, status: 'connected' } };
    },
    ...overrides,
  };
}

export interface SimulatorFixture {
  api: SimulatorRestApi;
  server: TestServer;
  calls: HandlerCall[];
  client(options?: Partial<RestClientOptions>): RestClient;
}

export async function startSimulatorRest(overrides: Partial<SimulatorRestHandlers> = {}): Promise<SimulatorFixture> {
  const calls: HandlerCall[] = [];
  const api = createSimulatorRestApi(recordingHandlers(calls, overrides));
  const server = await startServer(api);
  return {
    api,
    server,
    calls,
    client: (options = {}) =>
      new RestClient({ token: TOKEN, baseUrl: `${server.url}/v3`, managementBaseUrl: `${server.url}/v1`, logger: silentLogger, ...options }),
  };
}
