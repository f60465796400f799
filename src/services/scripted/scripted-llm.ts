// ScriptedLLMService: an offline, deterministic stand-in for an LLM — clearly not a language model. No chat
// model can be installed on a machine without network access, so the demo and the tests use rules: a pattern
// on the caller's last message maps to a reply and/or a tool call (or several parallel tool calls in one
// response, as real models make them); after the tools' results it answers from a template. It streams its output word by word through the same LLMService machinery as a real vendor, so
// everything downstream (sentence splitting, TTS, tools, interruptions) is exercised for real.
import type { LLMContextSnapshot, LLMMessage, LLMToolCall } from '../../frames/index.js';
import { sleep } from '../../runtime/clock.js';
import { LLMService, type LLMServiceOptions } from '../base/llm-service.js';
import type { LLMStreamEvent, StreamCompletionOptions } from '../base/llm-stream.js';

export interface ScriptedToolCall {
  name: string;
  /** The arguments, or a function of the caller's words (and the pattern's match when it is a RegExp). */
  arguments?: Record<string, unknown> | ((userText: string, match: RegExpMatchArray | null) => Record<string, unknown>);
}

export interface ScriptedRule {
  /** A RegExp, a case-insensitive substring, or a predicate on the caller's last message. */
  match: RegExp | string | ((userText: string) => boolean);
  /**
   * A few things a caller may say that this rule answers. Not used for matching: an offline recogniser builds its
   * domain language model from them (`servicesFromEnvironment` passes them to Pocketsphinx as `phrases`).
   */
  examples?: readonly string[];
  /** Said right away (before the tool call, if any). */
  reply?: string;
  toolCall?: ScriptedToolCall;
  /**
   * Several tool calls made in one response (parallel tool calls), in this order; instead of `toolCall`. Their
   * `afterTool` is said once, when all of them answered, with `result` the list of their parsed results in the
   * same order: `{result.0.summary}` is a field of the first call's result, `{result.1}` the whole second one.
   */
  toolCalls?: readonly ScriptedToolCall[];
  /**
   * Said once the tool answered: a template where `{result}` is the whole result and `{result.a.b}` a field of a
   * JSON result, or a function of the parsed result (for `toolCalls`: of the list of results).
   */
  afterTool?: string | ((result: unknown) => string);
}

export interface ScriptedLLMOptions extends Partial<LLMServiceOptions> {
  rules: readonly ScriptedRule[];
  /** Said when no rule matches. */
  fallback?: string;
  /** Said when a tool call failed (its result is an error). */
  toolErrorReply?: string;
  /** Pause between streamed words, to imitate a model's pace. Default 0. */
  wordDelayMs?: number;
}

const DEFAULT_FALLBACK = "I'm sorry, I didn't quite catch that. Could you say it again?";
const DEFAULT_TOOL_ERROR = "I'm sorry, something went wrong while I was doing that. Is there anything else I can help with?";

export class ScriptedLLMService extends LLMService {
  private readonly rules: readonly ScriptedRule[];
  private readonly fallback: string;
  private readonly toolErrorReply: string;
  private readonly wordDelayMs: number;
  private callCounter = 0;

  constructor(options: ScriptedLLMOptions) {
    super({ ...options, model: options.model ?? 'scripted', name: options.name ?? 'scripted-llm' });
    for (const [i, rule] of options.rules.entries()) {
      if (rule.toolCall !== undefined && rule.toolCalls !== undefined) {
        throw new TypeError(`ScriptedLLMService: rule ${i} has both toolCall and toolCalls; use one`);
      }
      if (rule.reply === undefined && rule.toolCall === undefined && (rule.toolCalls?.length ?? 0) === 0) {
        throw new TypeError(`ScriptedLLMService: rule ${i} has neither a reply nor a tool call`);
      }
    }
    this.rules = options.rules;
    this.fallback = options.fallback ?? DEFAULT_FALLBACK;
    this.toolErrorReply = options.toolErrorReply ?? DEFAULT_TOOL_ERROR;
    this.wordDelayMs = options.wordDelayMs ?? 0;
  }

  async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncGenerator<LLMStreamEvent> {
    const messages = context.messages;
    const last = messages.at(-1);
    let reply: string | undefined;
    const toolCalls: LLMToolCall[] = [];
    if (last?.role === 'tool') {
      reply = this.replyAfterTools(messages);
    } else {
      const userText = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      const found = this.findRule(userText);
      if (found === undefined) {
        reply = this.fallback;
      } else {
        reply = found.rule.reply;
        const argumentsOf = (call: ScriptedToolCall): string =>
          JSON.stringify(typeof call.arguments === 'function' ? call.arguments(userText, found.match) : (call.arguments ?? {}));
        if (found.rule.toolCall !== undefined) {
          toolCalls.push({
            id: `call_${found.index}_${++this.callCounter}`,
            name: found.rule.toolCall.name,
            arguments: argumentsOf(found.rule.toolCall),
          });
        } else if (found.rule.toolCalls !== undefined) {
          // One response, several calls: `call_<rule>_<response>_<position>`, so the answer after the tools can
          // gather this response's results and say the rule's afterTool once.
          const response = ++this.callCounter;
          for (const [position, call] of found.rule.toolCalls.entries()) {
            toolCalls.push({ id: `call_${found.index}_${response}_${position}`, name: call.name, arguments: argumentsOf(call) });
          }
        }
      }
    }
    let words = 0;
    for (const piece of (reply ?? '').match(/\S+\s*/g) ?? []) {
      if (options.signal.aborted) return;
      if (this.wordDelayMs > 0) {
        await sleep(this.clock, this.wordDelayMs, options.signal);
        // Aborted during the pause: the word must not follow (the caller interrupted; it would be spoken).
        if (options.signal.aborted) return;
      }
      words++;
      yield { type: 'text', text: piece };
    }
    if (options.signal.aborted) return;
    for (const toolCall of toolCalls) yield { type: 'tool-call', toolCall };
    // Rough token counts (about four characters a token), labelled as the scripted model's in metrics.
    const promptChars = messages.reduce((n, m) => n + m.content.length, 0);
    yield { type: 'usage', promptTokens: Math.ceil(promptChars / 4), completionTokens: words };
  }

  private findRule(userText: string): { rule: ScriptedRule; index: number; match: RegExpMatchArray | null } | undefined {
    for (const [index, rule] of this.rules.entries()) {
      if (rule.match instanceof RegExp) {
        // Without the g and y flags: with g, match() returns every match and no groups (the arguments function
        // would get no captures); with y, it depends on lastIndex left by the previous turn.
        const flags = rule.match.flags.replace(/[gy]/g, '');
        const pattern = flags === rule.match.flags ? rule.match : new RegExp(rule.match.source, flags);
        const match = userText.match(pattern);
        if (match !== null) return { rule, index, match };
      } else if (typeof rule.match === 'string') {
        if (userText.toLowerCase().includes(rule.match.toLowerCase())) return { rule, index, match: null };
      } else if (rule.match(userText)) {
        return { rule, index, match: null };
      }
    }
    return undefined;
  }

  private replyAfterTools(messages: readonly LLMMessage[]): string {
    // Each single call is answered on its own; the calls of one `toolCalls` response together, in one reply at
    // the place of the first of them, with the list of their results.
    const answers: { ruleIndex: number; result: unknown }[] = [];
    const groups = new Map<string, unknown[]>();
    const start = messages.findLastIndex((m) => m.role !== 'tool') + 1;
    for (const message of messages.slice(start)) {
      if (message.role !== 'tool') continue;
      const parsed = parseJSON(message.content);
      if (isErrorResult(parsed)) return this.toolErrorReply;
      const ruleIndex = Number(/^call_(\d+)_/.exec(message.toolCallId)?.[1] ?? -1);
      const planned = this.rules[ruleIndex]?.toolCalls;
      const id = /^call_\d+_(\d+)_(\d+)$/.exec(message.toolCallId);
      if (planned === undefined || id === null) {
        answers.push({ ruleIndex, result: parsed });
        continue;
      }
      const position = Number(id[2]);
      if (position >= planned.length) continue; // not a call this rule makes
      const key = `${ruleIndex}_${id[1]}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = planned.map(() => undefined);
        groups.set(key, group);
        answers.push({ ruleIndex, result: group });
      }
      group[position] = parsed;
    }
    const replies: string[] = [];
    for (const { ruleIndex, result } of answers) {
      const template = this.rules[ruleIndex]?.afterTool;
      if (template === undefined) continue;
      replies.push(typeof template === 'function' ? template(result) : fillTemplate(template, result));
    }
    return replies.length > 0 ? replies.join(' ') : 'Done.';
  }
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isErrorResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'error' in value && Object.keys(value).length === 1;
}

/** Replaces `{result}` and `{result.path.to.field}` with values from the tool's result. */
export function fillTemplate(template: string, result: unknown): string {
  return template.replace(/\{result((?:\.[\w-]+)*)\}/g, (_, path: string) => {
    let value: unknown = result;
    for (const key of path.split('.').filter((k) => k !== '')) {
      // Own fields only: {result.constructor} must not reach Object.prototype.
      value =
        typeof value === 'object' && value !== null && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    if (value === undefined) return '';
    // JSON.stringify gives undefined for a function: the replacer would then write "undefined".
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  });
}
