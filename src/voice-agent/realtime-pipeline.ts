// The pipeline of a VoiceAgent whose brain is a speech-to-speech model (`action({ realtime })`):
//   transport.input → [VAD, with turnDetection 'local'] → realtime service → transport.output → assistant turns
//   → playout tap
// The service stands where STT, the user-turn aggregator, the LLM and the TTS stand in the cascade; the output
// transport, the assistant aggregator (what was heard, for the history and `assistant-turn`) and the Conversation
// (who speaks, interruptions) are the cascade's own. The playout tap after the output transport reports where
// playback stopped at a barge-in, so the model is told what the caller heard whatever the transport.
import { AssistantAggregator } from '../conversation/assistant-aggregator.js';
import type { Conversation } from '../conversation/conversation.js';
import type { LLMContext } from '../llm/context.js';
import type { CallInfo, ToolOutcome, ToolRegistry } from '../llm/tools.js';
import type { FrameProcessor } from '../pipeline/index.js';
import { RealtimePlayoutTap } from '../services/base/realtime-playout.js';
import { RealtimeService } from '../services/base/realtime-service.js';
import { ConfigurationError } from '../runtime/configuration-error.js';
import type { CallTransport } from '../transports/base/transport.js';
import { VADProcessor, type VoiceActivityDetector } from '../turns/vad-processor.js';
import type { ActionOptions } from './options.js';

export interface RealtimePipelineParts {
  realtime: RealtimeService;
  turnDetection: 'server' | 'local';
  transport: CallTransport;
  conversation: Conversation;
  context: LLMContext;
  tools: ToolRegistry;
  instructions: string;
  call: CallInfo | undefined;
  /** Our VAD, with turnDetection 'local'. */
  vad: VoiceActivityDetector | undefined;
  onToolResult: (outcome: ToolOutcome) => void;
}

/** The processors of a realtime call, in order (the VoiceAgent adds its taps after them). */
export function realtimeProcessors(parts: RealtimePipelineParts): FrameProcessor[] {
  const { realtime, transport, conversation } = parts;
  realtime.configure({
    instructions: parts.instructions,
    tools: parts.tools,
    conversation,
    context: parts.context,
    call: parts.call,
    turnDetection: parts.turnDetection,
    canSendDtmf: transport.output.canSendDTMF,
    onToolResult: parts.onToolResult,
  });
  const processors: FrameProcessor[] = [transport.input];
  if (parts.turnDetection === 'local' && parts.vad !== undefined) processors.push(new VADProcessor(parts.vad));
  processors.push(realtime, transport.output, new AssistantAggregator({ conversation }));
  processors.push(new RealtimePlayoutTap((position) => realtime.playoutCut(position)));
  return processors;
}

/** Either a cascade (stt + llm + tts) or a speech-to-speech model, never both. */
export function checkActionServices(settings: ActionOptions): void {
  const cascade = (['stt', 'llm', 'tts'] as const).filter((name) => settings[name] !== undefined);
  if (settings.realtime === undefined) {
    for (const name of ['stt', 'llm', 'tts'] as const) {
      if (settings[name] === undefined) throw new TypeError(`VoiceAgent.action(): ${name} is required (or give a speech-to-speech model as \`realtime\`)`);
    }
    return;
  }
  const purpose = 'a speech-to-speech model, which replaces stt, llm and tts';
  if (cascade.length > 0) {
    throw new ConfigurationError('VoiceAgent.action()', [
      { option: 'realtime', purpose, problem: 'invalid', detail: `given together with ${cascade.join(', ')}: give either realtime or stt + llm + tts` },
    ]);
  }
  if (!(settings.realtime instanceof RealtimeService)) {
    throw new ConfigurationError('VoiceAgent.action()', [{ option: 'realtime', purpose, problem: 'invalid', detail: 'not a RealtimeService (e.g. new OpenAIRealtimeService({...}))' }]);
  }
  if (settings.turnDetection === 'local' && (settings.vad === undefined || settings.vad === false)) {
    throw new ConfigurationError('VoiceAgent.action()', [
      { option: 'vad', purpose: "the detector that takes the caller's turns with turnDetection 'local'", problem: 'missing' },
    ]);
  }
}
