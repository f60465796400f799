// What the model reads of an MCP tool's result. MCP results are lists of content blocks (text, images, audio,
// resources); a voice model can only use text, so text blocks are joined and every other block is described in a
// short line (its kind, type and name), never pasted: base64 audio or an image would fill the model's context.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface McpToolResult {
  /** The server reported the call as failed (`isError`): the model is told it failed. */
  readonly isError: boolean;
  /** The result's text for the model. */
  readonly text: string;
}

type ContentBlock = CallToolResult['content'][number];

function describeBlock(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
      return `[an image (${block.mimeType}) the caller cannot see]`;
    case 'audio':
      return `[an audio clip (${block.mimeType}) that was not played]`;
    case 'resource_link':
      return `[a resource: ${block.name} (${block.uri})]`;
    case 'resource': {
      const resource = block.resource;
      if ('text' in resource && typeof resource.text === 'string') return resource.text;
      return `[a binary resource (${resource.mimeType ?? 'unknown type'}): ${resource.uri}]`;
    }
    default:
      return `[content of type ${(block as { type: string }).type}]`;
  }
}

/** Turns a `tools/call` result into text; the legacy `toolResult` form and structured-only results are read too. */
export function mcpResultText(result: Record<string, unknown>): McpToolResult {
  const isError = result.isError === true;
  const content = Array.isArray(result.content) ? (result.content as ContentBlock[]) : [];
  const parts = content.map(describeBlock).filter((part) => part !== '');
  if (parts.length > 0) return { isError, text: parts.join('\n') };
  if (result.structuredContent !== undefined) return { isError, text: JSON.stringify(result.structuredContent) };
  if ('toolResult' in result) return { isError, text: JSON.stringify(result.toolResult) ?? '' };
  return { isError, text: isError ? 'the tool failed without saying why' : '' };
}
