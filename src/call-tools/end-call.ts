// end_call: hangs up, after the goodbye. The model says goodbye and calls the tool in the same answer; the words
// are then already on their way to the caller, so the handler waits until they have been played
// (`VoiceAgent.speechPlayed()`), then hangs up through the REST API with a cause; the platform ends the call
// (the agent sees the caller leave), or the agent ends the conversation itself after `hangupGraceMs`.
// If the caller barges in on the goodbye, the tool is cancelled like any tool at an interruption and the call
// goes on: someone who speaks over "goodbye" has something left to say.
import { FunctionSchema } from '../llm/function-schema.js';
import type { ToolHandler } from '../llm/tools.js';
import type { Logger } from '../logging/index.js';
import type { RestClient } from '../piopiy/index.js';
import { sleep, systemClock, type Clock } from '../runtime/clock.js';
import type { VoiceAgent } from '../voice-agent/index.js';
import { cut, errorResult, type CallToolResult } from './results.js';

export interface EndCallToolOptions {
  /** The hangup cause (a SIP-style cause, `POST /voice/call/hangup`). Default `NORMAL_CLEARING`. */
  cause?: string;
  /** Said by the tool itself before hanging up, for models that call it without saying goodbye. Default none. */
  goodbye?: string;
  /** Longest wait for the goodbye to be played. Default 30000. */
  maxWaitMs?: number;
  /**
   * After the hangup, how long the platform has to end the call (the agent then sees the caller leave) before the
   * agent ends the conversation itself. Default 2000.
   */
  hangupGraceMs?: number;
  /** The description the model reads. */
  description?: string;
}

export interface EndCallArgs {
  reason?: string;
}

export const DEFAULT_HANGUP_CAUSE = 'NORMAL_CLEARING';

export function endCallSchema(options: EndCallToolOptions): FunctionSchema<EndCallArgs> {
  return new FunctionSchema<EndCallArgs>({
    name: 'end_call',
    description:
      options.description ??
      'Hang up when the conversation is finished. Say goodbye first, in the same answer: the call ends once your goodbye has been heard.',
    properties: {
      reason: { type: 'string', description: 'A few words on why the call ends, for the call record.' },
    },
    required: [],
  });
}

export function endCallHandler(
  options: EndCallToolOptions,
  deps: { rest: RestClient; voice: VoiceAgent; logger: Logger; clock?: Clock },
): ToolHandler<EndCallArgs> {
  return async (args, ctx): Promise<CallToolResult> => {
    const callId = ctx.call?.callId;
    if (callId === undefined) return { status: 'error', detail: 'there is no live phone call to end' };
    if (options.goodbye !== undefined && options.goodbye.trim() !== '') ctx.say(options.goodbye);
    const playout = await deps.voice.speechPlayed();
    // Interrupted: the registry has already told the model the tool was cancelled; nothing more to do.
    if (playout === 'interrupted' || ctx.signal.aborted) return { status: 'error', detail: 'the caller interrupted; the call goes on' };
    if (playout === 'ended') return { status: 'ended' };
    const reason = typeof args.reason === 'string' && args.reason.trim() !== '' ? cut(args.reason.trim()) : undefined;
    try {
      await deps.rest.voice.hangup(callId, options.cause ?? DEFAULT_HANGUP_CAUSE, reason);
    } catch (error) {
      deps.logger.warn({ err: error, callId }, 'end_call: the hangup failed');
      return errorResult(error, 'hangup');
    }
    deps.logger.info({ callId, cause: options.cause ?? DEFAULT_HANGUP_CAUSE }, 'call hung up after the goodbye');
    // The platform ends the call with the hangup's cause; leaving first would end it as "agent left" instead.
    void sleep(deps.clock ?? systemClock, options.hangupGraceMs ?? 2000, deps.voice.signal).then((elapsed) => {
      if (elapsed) deps.voice.stop('hung up by end_call');
    });
    return { status: 'ended' };
  };
}
