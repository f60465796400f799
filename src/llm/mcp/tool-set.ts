// The MCP servers of one conversation: their tools enter the conversation's ToolRegistry beside the local tools,
// validated against each tool's inputSchema like a local tool's arguments, with the server's timeout and abort
// settings. A per-call source is closed with the conversation; a shared one is only let go (its owner closes it).
import type { Logger } from '../../logging/index.js';
import { FunctionSchema, type ObjectParametersSchema } from '../function-schema.js';
import type { ToolCallContext, ToolRegistry } from '../tools.js';
import type { McpToolInfo, McpToolSource } from './tool-source.js';

/** How adding a server went: the tools it gave (model-facing names), or why it gave none. Never a rejection. */
export type McpServerStatus =
  | { readonly ok: true; readonly server: string; readonly tools: readonly string[] }
  | { readonly ok: false; readonly server: string; readonly error: Error };

/** The error a tool reports with `isError`; the model reads its text. */
export class McpToolError extends Error {
  override readonly name = 'McpToolError';
}

interface Attached {
  readonly source: McpToolSource;
  readonly owned: boolean;
  /** Model-facing names of its tools now in the registry. */
  names: Set<string>;
  unsubscribe: () => void;
}

export class McpToolSet {
  private readonly attached: Attached[] = [];
  private closed = false;

  constructor(
    private readonly registry: ToolRegistry,
    /** The registry's tools changed (the conversation tells the model). */
    private readonly onToolsChanged: () => void,
    /** Read at each use: the conversation's logger names the call. */
    private readonly logger: () => Logger,
  ) {}

  /** Lists the source's tools and registers them; `owned` sources are closed by `close()`. */
  async add(source: McpToolSource, owned: boolean): Promise<McpServerStatus> {
    const entry: Attached = { source, owned, names: new Set(), unsubscribe: () => undefined };
    this.attached.push(entry);
    try {
      const tools = await source.listTools();
      // The conversation ended while the server was listed (or before it was added): a per-call server closes now.
      if (this.closed) {
        if (owned) await source.close();
        return { ok: true, server: source.name, tools: [] };
      }
      this.replaceTools(entry, tools);
      entry.unsubscribe = source.onToolsChanged((changed) => {
        if (!this.closed) this.replaceTools(entry, changed);
      });
      return { ok: true, server: source.name, tools: [...entry.names] };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (this.closed && owned) await source.close();
      this.logger().warn({ err: failure, mcpServer: source.name }, 'the MCP server gave no tools; the call goes on without them');
      return { ok: false, server: source.name, error: failure };
    }
  }

  /** Lets go of every source; closes the per-call ones. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.attached) entry.unsubscribe();
    await Promise.allSettled(this.attached.filter((entry) => entry.owned).map((entry) => entry.source.close()));
  }

  private replaceTools(entry: Attached, tools: readonly McpToolInfo[]): void {
    for (const name of entry.names) this.registry.unregister(name);
    entry.names = new Set();
    for (const tool of tools) {
      if (this.registry.has(tool.name)) {
        this.logger().warn({ mcpServer: entry.source.name, tool: tool.name }, 'an MCP tool has the name of another tool; skipped');
        continue;
      }
      let schema: FunctionSchema;
      try {
        schema = new FunctionSchema({ name: tool.name, description: tool.description, parameters: tool.inputSchema as ObjectParametersSchema });
      } catch (error) {
        this.logger().warn({ err: error, mcpServer: entry.source.name, tool: tool.mcpName }, 'an MCP tool has an unusable inputSchema; skipped');
        continue;
      }
      this.registry.register(schema, (args, ctx) => this.call(entry.source, tool, args, ctx), {
        timeoutMs: entry.source.toolTimeoutMs,
        cancelOnInterruption: entry.source.cancelOnInterruption,
      });
      entry.names.add(tool.name);
    }
    this.onToolsChanged();
  }

  private async call(source: McpToolSource, tool: McpToolInfo, args: Record<string, unknown>, ctx: ToolCallContext): Promise<unknown> {
    let result;
    try {
      result = await source.callTool(tool.mcpName, args, { signal: ctx.signal });
    } catch (error) {
      const fields = { err: error, mcpServer: source.name, tool: tool.mcpName };
      // Aborted: by the caller's interruption (expected) or by the timeout (the server hangs: worth a warning).
      if (!ctx.signal.aborted) this.logger().warn(fields, 'the MCP tool call failed');
      else if (/timed out/.test(String((ctx.signal.reason as Error | undefined)?.message))) this.logger().warn(fields, 'the MCP tool call timed out');
      throw new Error(`the MCP server ${source.name} did not answer: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (result.isError) throw new McpToolError(result.text);
    return result.text === '' ? undefined : result.text;
  }
}
