// piopiyCallTools: the ready-made Piopiy call tools, added to a VoiceAgent in one line:
//
//   piopiyCallTools({ rest: piopiy, transfer: { to: '+91 98765 43210', mode: 'warm' } }).addTo(voice);
//
// `transfer_call` (./transfer-call.ts) and `end_call` (./end-call.ts) act on the call the VoiceAgent serves (the
// Agent session's `callId`, reaching the handlers through the tool context), so nothing global is shared between
// calls; each `addTo` gets its own state.
import type { FunctionSchema } from '../llm/function-schema.js';
import type { ToolHandler, ToolOptions } from '../llm/tools.js';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import type { RestClient } from '../piopiy/index.js';
import type { Clock } from '../runtime/clock.js';
import type { VoiceAgent } from '../voice-agent/index.js';
import { endCallHandler, endCallSchema, type EndCallArgs, type EndCallToolOptions } from './end-call.js';
import { checkTransferOptions, transferHandler, transferSchema, type TransferArgs, type TransferToolOptions } from './transfer-call.js';

export interface CallToolsOptions {
  /** The REST client that acts on the call. */
  rest: RestClient;
  /** Adds `transfer_call`. Without it there is no transfer tool. */
  transfer?: TransferToolOptions;
  /** Adds `end_call` (true: with the defaults). Default true. */
  endCall?: boolean | EndCallToolOptions;
  /** The clock of the tools' own waits (give the RestClient's). Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
}

export interface CallTools {
  /** The tools' schemas, e.g. to list them. */
  readonly schemas: readonly FunctionSchema<TransferArgs | EndCallArgs>[];
  /** Adds the tools to `voice` (each VoiceAgent gets its own transfer state); returns `voice`. */
  addTo(voice: VoiceAgent): VoiceAgent;
}

export function piopiyCallTools(options: CallToolsOptions): CallTools {
  if (typeof options?.rest?.calls?.warmTransfer !== 'function') throw new TypeError('piopiyCallTools: rest must be a RestClient');
  const transfer = options.transfer;
  if (transfer !== undefined) checkTransferOptions(transfer);
  const endCall = options.endCall === false ? undefined : options.endCall === true || options.endCall === undefined ? {} : options.endCall;
  if (transfer === undefined && endCall === undefined) throw new TypeError('piopiyCallTools: enable transfer, endCall or both');
  const transferTool = transfer === undefined ? undefined : transferSchema(transfer);
  const endCallTool = endCall === undefined ? undefined : endCallSchema(endCall);
  const logger = (options.logger ?? getDefaultLogger()).child({ component: 'call-tools' });
  return {
    schemas: [transferTool, endCallTool].filter((s) => s !== undefined),
    addTo(voice) {
      if (transferTool !== undefined && transfer !== undefined) {
        const handler = transferHandler(transfer, { rest: options.rest, voice, clock: options.clock, logger });
        voice.addTool(transferTool, handler, TRANSFER_TOOL);
      }
      if (endCallTool !== undefined && endCall !== undefined) {
        const handler: ToolHandler<EndCallArgs> = endCallHandler(endCall, { rest: options.rest, voice, logger, clock: options.clock });
        voice.addTool(endCallTool, handler, { runLLM: false, timeoutMs: endCall.maxWaitMs ?? 30_000 });
      }
      return voice;
    },
  };
}

/** The transfer request is one REST call; its outcome is followed in the background, not by the tool. */
const TRANSFER_TOOL: ToolOptions = { timeoutMs: 15_000, cancelOnInterruption: false };
