// McpToolSource: one MCP server, as a source of tools, through the official SDK's client (stdio: a child process
// the source starts; Streamable HTTP: a URL). It connects on first use, lists the tools once (every page) and keeps
// the list until the server says it changed (`notifications/tools/list_changed`) or the connection is lost. A lost
// connection (a crashed process, a closed HTTP session) fails the calls in flight and is opened again by the next
// use, so one crash does not disable the tools for the rest of the call or, for a shared source, for later calls.
//
// The SDK is imported on first connection, not when piopiy-ai loads: most agents use no MCP server.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONSchema } from '../../frames/index.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { mcpResultText, type McpToolResult } from './result-text.js';
import { MCP_SERVER_NAME, namespacedToolNames } from './tool-names.js';

/** What every MCP server takes, whichever its transport. */
export interface McpServerOptions {
  /** Names the server in tool names (`<name>_<tool>`) and logs: 1 to 32 letters, digits, _ or -. */
  name: string;
  /** How long one tool call may take before the model is told it timed out. Default 10 000 ms. */
  toolTimeoutMs?: number;
  /** How long connecting and listing the tools may take. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Abort a tool call (the server is sent a cancellation) when the caller interrupts. Default true. */
  cancelOnInterruption?: boolean;
  /** Only these tools (by their MCP name) are offered to the model. Default: all of them. */
  allowedTools?: readonly string[];
  /** Where connection problems are logged. Default: the default logger (a call's tool errors go to its logger). */
  logger?: Logger;
}

/** A server started as a child process, spoken to on its stdin/stdout. */
export interface McpStdioServerParams extends McpServerOptions {
  command: string;
  args?: readonly string[];
  /**
   * Environment of the process, added to the SDK's small safe default (PATH, HOME, ...): the agent's own secrets
   * are not passed on unless listed here.
   */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  url?: never;
}

/** A server reached over Streamable HTTP. */
export interface McpHttpServerParams extends McpServerOptions {
  url: string | URL;
  /** Sent with every request, e.g. `{ authorization: 'Bearer ...' }`. Never logged. */
  headers?: Readonly<Record<string, string>>;
  command?: never;
}

export type McpServerParams = McpStdioServerParams | McpHttpServerParams;

/** One tool of an MCP server. */
export interface McpToolInfo {
  /** The tool's name on the server. */
  readonly mcpName: string;
  /** The name the model sees: `<server>_<tool>`. */
  readonly name: string;
  readonly description: string;
  readonly inputSchema: JSONSchema;
}

export const DEFAULT_MCP_TIMEOUT_MS = 10_000;

export class McpToolSource {
  readonly name: string;
  readonly toolTimeoutMs: number;
  readonly cancelOnInterruption: boolean;
  private readonly params: McpServerParams;
  private readonly connectTimeoutMs: number;
  private readonly logger: Logger;
  private connection: Promise<Client> | undefined;
  private listing: Promise<readonly McpToolInfo[]> | undefined;
  private readonly listeners = new Set<(tools: readonly McpToolInfo[]) => void>();
  private isClosed = false;

  constructor(params: McpServerParams) {
    if (typeof params.name !== 'string' || !MCP_SERVER_NAME.test(params.name)) {
      throw new TypeError(`McpToolSource: invalid name ${JSON.stringify(params.name)}: use 1 to 32 letters, digits, _ or -`);
    }
    const hasCommand = typeof params.command === 'string' && params.command !== '';
    const hasUrl = params.url !== undefined;
    if (hasCommand === hasUrl) throw new TypeError(`McpToolSource ${params.name}: give either command (stdio) or url (Streamable HTTP)`);
    if (hasUrl) new URL(String(params.url)); // throws a clear TypeError for a bad URL now, not at the first call
    for (const [option, value] of [['toolTimeoutMs', params.toolTimeoutMs], ['connectTimeoutMs', params.connectTimeoutMs]] as const) {
      if (value !== undefined && !(value > 0)) throw new RangeError(`McpToolSource ${params.name}: ${option} must be a positive number of milliseconds`);
    }
    this.name = params.name;
    this.params = params;
    this.toolTimeoutMs = params.toolTimeoutMs ?? DEFAULT_MCP_TIMEOUT_MS;
    this.connectTimeoutMs = params.connectTimeoutMs ?? DEFAULT_MCP_TIMEOUT_MS;
    this.cancelOnInterruption = params.cancelOnInterruption ?? true;
    this.logger = (params.logger ?? getDefaultLogger()).child({ mcpServer: params.name });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The server's tools (connecting first if needed); listed once and kept until the server says they changed. */
  listTools(): Promise<readonly McpToolInfo[]> {
    if (this.isClosed) return Promise.reject(new Error(`MCP server ${this.name} is closed`));
    const listing = (this.listing ??= this.list());
    // A failed listing is not kept: the next use tries again (the server may have been starting).
    listing.catch(() => {
      if (this.listing === listing) this.listing = undefined;
    });
    return listing;
  }

  /** Called with the new list when the server's tools change. Returns the unsubscribe function. */
  onToolsChanged(listener: (tools: readonly McpToolInfo[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls a tool by its MCP name. Rejects on a lost connection, a timeout or an abort; `isError` is a result. */
  async callTool(mcpName: string, args: Record<string, unknown>, options: { signal?: AbortSignal } = {}): Promise<McpToolResult> {
    const client = await this.connect();
    options.signal?.throwIfAborted();
    const result = await client.callTool({ name: mcpName, arguments: args }, undefined, {
      signal: options.signal,
      // The SDK's own bound, a backstop for Infinity: the tool registry's timer (on the call's clock) answers first.
      timeout: Number.isFinite(this.toolTimeoutMs) ? this.toolTimeoutMs + 1000 : undefined,
    });
    return mcpResultText(result);
  }

  /** Closes the connection (and stops a stdio server's process); the source cannot be used again. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.listeners.clear();
    const connection = this.connection;
    this.connection = undefined;
    this.listing = undefined;
    const client = await connection?.catch(() => undefined);
    await client?.close().catch((error: unknown) => this.logger.debug({ err: error }, 'closing the MCP connection failed'));
  }

  private connect(): Promise<Client> {
    if (this.isClosed) return Promise.reject(new Error(`MCP server ${this.name} is closed`));
    const connection = (this.connection ??= this.open());
    connection.catch(() => {
      if (this.connection === connection) this.connection = undefined;
    });
    return connection;
  }

  private async open(): Promise<Client> {
    const [{ Client }, { ToolListChangedNotificationSchema }] = await Promise.all([
      import('@modelcontextprotocol/sdk/client/index.js'),
      import('@modelcontextprotocol/sdk/types.js'),
    ]);
    const transport = await this.createTransport();
    const client = new Client({ name: 'piopiy-ai', version: '1' }, { capabilities: {} });
    client.onclose = () => {
      // Only the current connection's end matters (a closed source's, or an old one replaced, is expected).
      if (this.isClosed || this.connection === undefined) return;
      void this.connection.then((current) => {
        if (current !== client) return;
        this.logger.warn('the MCP server closed the connection; reconnecting at the next use');
        this.connection = undefined;
        this.listing = undefined;
      }, () => undefined);
    };
    client.onerror = (error) => this.logger.debug({ err: error }, 'MCP transport error');
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.refreshTools());
    try {
      await client.connect(transport, { timeout: this.connectTimeoutMs });
    } catch (error) {
      await client.close().catch(() => undefined);
      this.logger.warn({ err: error }, 'could not connect to the MCP server');
      throw error;
    }
    if (this.isClosed) {
      await client.close().catch(() => undefined);
      throw new Error(`MCP server ${this.name} is closed`);
    }
    return client;
  }

  private async createTransport(): Promise<Transport> {
    const params = this.params;
    if (params.url !== undefined) {
      const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
      return new StreamableHTTPClientTransport(new URL(String(params.url)), { requestInit: { headers: { ...params.headers } } });
    }
    const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    const transport = new StdioClientTransport({
      command: params.command,
      args: params.args === undefined ? undefined : [...params.args],
      env: params.env === undefined ? undefined : { ...params.env },
      cwd: params.cwd,
      // Piped, not inherited: the server's messages go to the log with its name instead of mixing into ours.
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.logger.debug({ stderr: line.slice(0, 500) }, 'MCP server stderr');
    });
    return transport;
  }

  private async list(): Promise<readonly McpToolInfo[]> {
    const client = await this.connect();
    const found: { name: string; description?: string; inputSchema: unknown }[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: this.connectTimeoutMs });
      found.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const allowed = this.params.allowedTools;
    const offered = allowed === undefined ? found : found.filter((tool) => allowed.includes(tool.name));
    const names = namespacedToolNames(this.name, offered.map((tool) => tool.name));
    return offered.map((tool) => ({
      mcpName: tool.name,
      name: names.get(tool.name)!,
      description: tool.description ?? '',
      inputSchema: tool.inputSchema as JSONSchema,
    }));
  }

  private refreshTools(): void {
    this.listing = undefined;
    this.listTools().then(
      (tools) => {
        this.logger.info({ tools: tools.length }, 'the MCP server changed its tools');
        for (const listener of this.listeners) listener(tools);
      },
      (error: unknown) => this.logger.warn({ err: error }, 'listing the MCP server tools again failed'),
    );
  }
}
