// The Converse body checks of the fake Bedrock server, with Bedrock's ValidationException wording: a user turn
// first, roles alternating, content blocks of one known kind each, no blank text, toolUse / toolResult only with a
// toolConfig, every toolUse answered by a toolResult in the next turn, tool names and schemas, inference parameters
// in range. Facts: docs/vendors/aws.md.
import { isRecord } from './http.js';

export class BedrockValidationError extends Error {}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const BLOCK_KINDS = ['text', 'image', 'document', 'video', 'toolUse', 'toolResult', 'guardContent', 'cachePoint', 'reasoningContent', 'citationsContent'];

const invalid = (message: string): BedrockValidationError => new BedrockValidationError(message);
const constraint = (value: unknown, at: string, rule: string): BedrockValidationError =>
  invalid(`1 validation error detected: Value '${String(value)}' at '${at}' failed to satisfy constraint: ${rule}`);

function checkInference(config: unknown): void {
  if (config === undefined) return;
  if (!isRecord(config)) throw invalid('inferenceConfig must be an object.');
  const { maxTokens, temperature, topP, stopSequences } = config;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) throw constraint(maxTokens, 'inferenceConfig.maxTokens', 'Member must have value greater than or equal to 1');
  for (const [name, value] of [['temperature', temperature], ['topP', topP]] as const) {
    if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 1)) throw constraint(value, `inferenceConfig.${name}`, 'Member must have value less than or equal to 1');
  }
  if (stopSequences !== undefined && (!Array.isArray(stopSequences) || stopSequences.some((s) => typeof s !== 'string' || s === ''))) {
    throw constraint(stopSequences, 'inferenceConfig.stopSequences', 'Member must satisfy constraint: [Member must have length greater than or equal to 1]');
  }
}

function checkTools(toolConfig: unknown): void {
  if (toolConfig === undefined) return;
  if (!isRecord(toolConfig) || !Array.isArray(toolConfig.tools) || toolConfig.tools.length === 0) {
    throw constraint('[]', 'toolConfig.tools', 'Member must have length greater than or equal to 1');
  }
  toolConfig.tools.forEach((tool, i) => {
    const spec = isRecord(tool) && isRecord(tool.toolSpec) ? tool.toolSpec : undefined;
    if (spec === undefined) throw invalid(`toolConfig.tools.${i + 1}: a tool must be a toolSpec (or a cachePoint).`);
    if (typeof spec.name !== 'string' || !TOOL_NAME.test(spec.name)) throw constraint(spec.name, `toolConfig.tools.${i + 1}.member.toolSpec.name`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
    if (spec.description !== undefined && (typeof spec.description !== 'string' || spec.description === '')) {
      throw constraint(spec.description, `toolConfig.tools.${i + 1}.member.toolSpec.description`, 'Member must have length greater than or equal to 1');
    }
    if (!isRecord(spec.inputSchema) || !isRecord(spec.inputSchema.json) || spec.inputSchema.json.type !== 'object') {
      throw invalid(`The value at toolConfig.tools.${i}.toolSpec.inputSchema.json.type must be object`);
    }
  });
  const choice = toolConfig.toolChoice;
  if (choice !== undefined) {
    const keys = isRecord(choice) ? Object.keys(choice) : [];
    if (keys.length !== 1 || !['auto', 'any', 'tool'].includes(keys[0] ?? '')) throw invalid('toolConfig.toolChoice must be exactly one of auto, any or tool.');
  }
}

/** Throws a BedrockValidationError worded as Bedrock's for the first thing wrong in `body`. */
export function validateConverseBody(body: Record<string, unknown>): void {
  const { messages, system, toolConfig } = body;
  if (!Array.isArray(messages)) throw invalid('messages is required.');
  if (system !== undefined && (!Array.isArray(system) || system.some((block) => !isRecord(block) || (block.text !== undefined && (typeof block.text !== 'string' || block.text.trim() === ''))))) {
    throw invalid('The text field in the SystemContentBlock object is blank. Add text to the text field, and try again.');
  }
  checkInference(body.inferenceConfig);
  checkTools(toolConfig);
  let expectedResults: string[] = [];
  messages.forEach((message, i) => {
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) throw constraint(isRecord(message) ? message.role : message, `messages.${i + 1}.member.role`, 'Member must satisfy enum value set: [user, assistant]');
    if (i === 0 && message.role !== 'user') throw invalid('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    if (i > 0 && (messages[i - 1] as Record<string, unknown>).role === message.role) {
      throw invalid('A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    }
    if (!Array.isArray(message.content) || message.content.length === 0) throw invalid(`The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`);
    const toolUses: string[] = [];
    const results: string[] = [];
    message.content.forEach((block, j) => {
      const kinds = isRecord(block) ? Object.keys(block).filter((key) => BLOCK_KINDS.includes(key)) : [];
      if (!isRecord(block) || kinds.length !== 1) throw invalid(`The ContentBlock object at messages.${i}.content.${j} must have exactly one of: ${BLOCK_KINDS.join(', ')}.`);
      if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) {
        throw invalid(`The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`);
      }
      for (const kind of ['toolUse', 'toolResult'] as const) {
        if (!(kind in block)) continue;
        if (toolConfig === undefined) throw invalid('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
        const part = block[kind];
        if (!isRecord(part) || typeof part.toolUseId !== 'string' || !TOOL_NAME.test(part.toolUseId)) throw constraint(isRecord(part) ? part.toolUseId : part, `messages.${i + 1}.member.content.${j + 1}.member.${kind}.toolUseId`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
        if (kind === 'toolUse') {
          if (message.role !== 'assistant') throw invalid(`messages.${i}.content.${j}: toolUse blocks can only be in assistant messages.`);
          if (typeof part.name !== 'string' || !TOOL_NAME.test(part.name) || !isRecord(part.input)) throw invalid(`messages.${i}.content.${j}: a toolUse needs a name and an input object.`);
          toolUses.push(part.toolUseId);
        } else {
          if (message.role !== 'user') throw invalid(`messages.${i}.content.${j}: toolResult blocks can only be in user messages.`);
          if (!Array.isArray(part.content) || part.content.length === 0) throw invalid(`messages.${i}.content.${j}: a toolResult needs content.`);
          results.push(part.toolUseId);
        }
      }
    });
    const missing = expectedResults.filter((id) => !results.includes(id));
    if (missing.length > 0) throw invalid(`Expected toolResult blocks at messages.${i}.content for the following Ids: ${missing.join(', ')}`);
    const unexpected = results.filter((id) => !expectedResults.includes(id));
    if (unexpected.length > 0) throw invalid(`messages.${i}.content: toolResult blocks answer no toolUse of the previous turn: ${unexpected.join(', ')}`);
    expectedResults = toolUses;
  });
  if (messages.length === 0) throw invalid('A conversation must start with a user message. Try again with a conversation that starts with a user message.');
  if (expectedResults.length > 0) throw invalid(`Expected toolResult blocks at messages.${messages.length}.content for the following Ids: ${expectedResults.join(', ')}`);
}
