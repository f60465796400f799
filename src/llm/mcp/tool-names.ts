// The names the model sees for MCP tools: `<server>_<tool>`, within the providers' tool-name rules (letters,
// digits, _ and -, 64 at most; see function-schema.ts). MCP allows other characters (dots, slashes) and longer
// names, so a name is rewritten to fit; two tools whose rewritten names would collide, or a name cut for length,
// get a short hash of the original so each stays distinct and stable from one listing to the next.
import { createHash } from 'node:crypto';

export const MCP_SERVER_NAME = /^[a-zA-Z0-9_-]{1,32}$/;
const MAX_TOOL_NAME = 64;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** The model-facing names of a server's tools, by their MCP name, in listing order. */
export function namespacedToolNames(server: string, toolNames: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const tool of toolNames) {
    let name = `${server}_${tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
    if (name.length > MAX_TOOL_NAME || taken.has(name)) name = `${name.slice(0, MAX_TOOL_NAME - 9)}_${shortHash(tool)}`;
    taken.add(name);
    names.set(tool, name);
  }
  return names;
}
