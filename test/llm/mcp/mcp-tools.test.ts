// MCP tools against a real MCP server written with the official SDK: over stdio (a child process run with tsx)
// and over Streamable HTTP (in this process). Real time: real processes and sockets, with generous bounds.
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { McpToolSet, McpToolSource, type McpServerParams } from '../../../src/llm/mcp/index.js';
import { ToolRegistry, type ToolOutcome } from '../../../src/llm/tools.js';
import { recordingLogger, type LogRecord } from '../../pipeline/helpers.js';
import { startTestHttpServer, type TestHttpServer } from './fixtures/http-server.js';

const STDIO_SERVER = fileURLToPath(new URL('./fixtures/stdio-server.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export function stdioParams(extra: Partial<McpServerParams> = {}): McpServerParams {
  return { name: 'shop', command: process.execPath, args: ['--import', 'tsx', STDIO_SERVER], cwd: REPO, connectTimeoutMs: 30_000, ...extra } as McpServerParams;
}

interface Harness {
  registry: ToolRegistry;
  set: McpToolSet;
  logs: LogRecord[];
  changes: number;
  run(name: string, args?: unknown, interruption?: AbortSignal): Promise<ToolOutcome>;
}

function harness(): Harness {
  const logs: LogRecord[] = [];
  const registry = new ToolRegistry();
  const h: Harness = {
    registry,
    logs,
    changes: 0,
    set: new McpToolSet(registry, () => h.changes++, () => recordingLogger(logs)),
    run: (name, args = {}, interruption = new AbortController().signal) =>
      registry.execute({ id: `call-${name}`, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) }, { call: undefined, interruption, say: () => undefined }),
  };
  return h;
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('McpToolSource parameters', () => {
  it('rejects bad input with clear errors', () => {
    expect(() => new McpToolSource({ name: 'has space', command: 'x' })).toThrow(/invalid name "has space"/);
    expect(() => new McpToolSource({ name: 'a', command: 'x', url: 'http://x' } as unknown as McpServerParams)).toThrow(/either command/);
    expect(() => new McpToolSource({ name: 'a' } as McpServerParams)).toThrow(/either command/);
    expect(() => new McpToolSource({ name: 'a', url: 'not a url' })).toThrow(/Invalid URL/);
    expect(() => new McpToolSource({ name: 'a', command: 'x', toolTimeoutMs: 0 })).toThrow(/toolTimeoutMs must be a positive/);
  });

  it('a server that cannot start: a failed status and a log line, not a rejection', async () => {
    const h = harness();
    const status = await h.set.add(new McpToolSource({ name: 'gone', command: '/nonexistent/mcp-server' }), true);
    expect(status).toMatchObject({ ok: false, server: 'gone' });
    expect(h.logs.some((l) => l.level === 'warn' && l.fields.mcpServer === 'gone')).toBe(true);
    expect(h.registry.size).toBe(0);
    await h.set.close();
  });
});

describe('MCP over stdio (a child process)', () => {
  let h: Harness;
  let source: McpToolSource;
  beforeAll(async () => {
    h = harness();
    source = new McpToolSource({ ...stdioParams(), toolTimeoutMs: 1500 });
    const status = await h.set.add(source, true);
    expect(status.ok).toBe(true);
  }, 40_000);
  afterAll(() => h.set.close());

  it('lists the tools once, namespaced within the providers’ name rules', async () => {
    const names = h.registry.definitions().map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['shop_add', 'shop_lookup_order', 'shop_fail', 'shop_wait', 'shop_weird_name_v2']));
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    const add = h.registry.definitions().find((d) => d.name === 'shop_add')!;
    expect(add.description).toBe('Adds two numbers.');
    expect(add.parameters).toMatchObject({ type: 'object', properties: { a: { type: 'number' } }, required: ['a', 'b'] });
    expect(await source.listTools()).toBe(await source.listTools());
    expect(h.changes).toBe(1);
  });

  it('a call: the text result reaches the model', async () => {
    const outcome = await h.run('shop_add', { a: 2, b: 40 });
    expect(outcome).toMatchObject({ error: undefined, content: '42' });
    expect((await h.run('shop_weird_name_v2')).content).toBe('ok');
  });

  it('arguments are validated against the inputSchema before anything is sent', async () => {
    const outcome = await h.run('shop_add', { a: 'two', b: 40 });
    expect(outcome.error).toMatch(/invalid arguments: \$\.a: expected number, got "two"/);
    expect((await h.run('shop_add', { a: 1 })).error).toMatch(/\$\.b: is required/);
  });

  it('isError results reach the model as errors; non-text content is described', async () => {
    const failed = await h.run('shop_fail');
    expect(failed.error).toContain('the order system is down');
    expect((JSON.parse(failed.content) as { error: string }).error).toContain('the order system is down');
    const picture = await h.run('shop_picture');
    expect(picture.content).toBe('A map of the store\n[an image (image/png) the caller cannot see]');
  });

  it('a hanging tool times out into an error result and a warning', async () => {
    const started = performance.now();
    const outcome = await h.run('shop_wait', { ms: 60_000 });
    expect(outcome.error).toBe('the tool shop_wait did not answer within 1.5 s');
    expect(performance.now() - started).toBeLessThan(10_000);
    await until(() => h.logs.some((l) => l.message === 'the MCP tool call timed out'));
    // The connection is still good.
    expect((await h.run('shop_add', { a: 1, b: 1 })).content).toBe('2');
  });

  it('an interruption aborts the call at once', async () => {
    const interruption = new AbortController();
    const running = h.run('shop_wait', { ms: 60_000 }, interruption.signal);
    await new Promise((r) => setTimeout(r, 300));
    interruption.abort();
    expect((await running).error).toBe('cancelled: the caller interrupted');
    expect(h.logs.filter((l) => l.level === 'warn' && l.message === 'the MCP tool call failed')).toEqual([]);
  });

  it('tools/list_changed: the new list replaces the old one', async () => {
    const before = h.changes;
    await h.run('shop_grow');
    await until(() => h.changes > before);
    expect(h.registry.has('shop_extra')).toBe(true);
    expect((await h.run('shop_extra')).content).toBe('extra');
  });

  it('a server that dies mid-call: an error result and a log line; the next use starts it again', async () => {
    const outcome = await h.run('shop_crash');
    expect(outcome.error).toMatch(/the tool shop_crash failed: the MCP server shop did not answer: .*closed/i);
    expect(h.logs.some((l) => l.level === 'warn' && l.message === 'the MCP tool call failed' && l.fields.tool === 'crash')).toBe(true);
    // Starting the process again (tsx) can take longer than one tool's timeout on a busy machine: list first.
    await source.listTools();
    expect((await h.run('shop_add', { a: 3, b: 4 })).content).toBe('7');
  }, 40_000);
});

describe('MCP over Streamable HTTP', () => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startTestHttpServer();
  });
  afterAll(() => server.close());

  it('lists, calls with the configured headers, validates, and aborts on interruption', async () => {
    const h = harness();
    const source = new McpToolSource({ name: 'crm', url: server.url, headers: { authorization: 'Bearer test-key' }, toolTimeoutMs: 5000 });
    cleanups.push(() => source.close());
    const status = await h.set.add(source, false);
    expect(status.ok && status.tools).toContain('crm_lookup_order');
    expect((await h.run('crm_lookup_order', { order_id: 'A7' })).content).toBe('Order A7 ships tomorrow');
    expect(server.headers.every((headers) => headers.authorization === 'Bearer test-key')).toBe(true);

    expect((await h.run('crm_lookup_order', { order_id: 7 })).error).toMatch(/\$\.order_id: expected string/);
    expect(server.log.calls.filter((c) => c === 'lookup_order')).toHaveLength(1);

    const interruption = new AbortController();
    const running = h.run('crm_wait', { ms: 60_000 }, interruption.signal);
    await until(() => server.log.calls.includes('wait'));
    interruption.abort();
    expect((await running).error).toBe('cancelled: the caller interrupted');
    // The server was told: its handler's signal fired (notifications/cancelled).
    await until(() => server.log.cancelled.includes('wait'));

    // Not owned by the set: closing the set leaves the shared source open.
    await h.set.close();
    expect(source.closed).toBe(false);
    // A per-call server added once the conversation is over is closed at once.
    const late = new McpToolSource({ name: 'late', command: '/nonexistent/mcp-server' });
    await h.set.add(late, true);
    expect(late.closed).toBe(true);
    expect((await source.callTool('add', { a: 1, b: 2 })).text).toBe('3');
  });
});
