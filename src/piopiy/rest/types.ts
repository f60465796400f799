// Types of the Piopiy v3 REST API (spec/piopiy.md §7). Two families:
// - wire types (snake_case), exactly what is sent and what the platform (or the simulator) receives;
// - input types (camelCase), what TypeScript callers write; the client maps them field by field to the wire.

/** Scalar values allowed in `variables`, `metadata` and `param.data`. */
export type ScalarValue = string | number | boolean;
/** Keys match `^[A-Za-z_][A-Za-z0-9_]*$`; values are scalars. */
export type CallVariables = Record<string, ScalarValue>;

export type ConnectStrategy = 'sequential' | 'simultaneous';
export type RecordingFormat = 'mp3' | 'wav';
export type RecordingChannels = 'single' | 'dual';
export type CallerInputMode = 'dtmf' | 'speech';

// ---------------------------------------------------------------- wire: endpoints and pipeline actions

interface EndpointBase {
  /** SIP headers; the platform accepts the key on any endpoint type. */
  headers?: Record<string, string>;
}
export interface PstnEndpoint extends EndpointBase {
  type: 'pstn';
  /** Digits only, `^[1-9][0-9]{6,15}$` (inputs may carry a leading `+`, spaces and dashes). */
  number: string;
}
export interface SipEndpoint extends EndpointBase {
  type: 'sip';
  uri: string;
}
export interface AgentEndpoint extends EndpointBase {
  type: 'agent';
  /** AI agent UUID. */
  id: string;
}
/** A destination of `connect`. At most two agent endpoints, and they come last. */
export type ConnectEndpoint = PstnEndpoint | SipEndpoint | AgentEndpoint;

export interface PcmoRecording {
  enabled?: boolean;
  channels?: RecordingChannels;
  format?: RecordingFormat;
}

export interface PcmoConnectOptions {
  /** 10–7200 */
  max_duration_sec?: number;
  /** 5–120 */
  ring_timeout_sec?: number;
  machine_detection?: boolean;
  recording?: PcmoRecording;
  waiting_music?: string;
}

export interface PcmoConnectParams {
  caller_id: string;
  strategy?: ConnectStrategy;
  options?: PcmoConnectOptions;
  metadata?: CallVariables;
}

export type PcmoPrompt =
  | { type: 'file'; file_name: string }
  | { type: 'say'; say: string; language: string; voice_id: string; /** 0.5–2.0 */ speed: number };

export type InputResultTarget = { type: 'url'; url: string } | { type: 'pcmo'; ref: string };

export interface PcmoDtmf {
  min_digits?: number;
  max_digits?: number;
  /** One character. */
  finish_on_key?: string;
  first_digit_timeout?: number;
  inter_digit_timeout?: number;
  flush_buffer?: boolean;
}

export interface PcmoRetries {
  max?: number;
  no_input_prompt?: PcmoPrompt;
  invalid_prompt?: PcmoPrompt;
}

export interface ConnectAction {
  action: 'connect';
  params: PcmoConnectParams;
  endpoints: ConnectEndpoint[];
}
export interface PlayAction {
  action: 'play';
  /** A file name or URL. */
  file_name: string;
}
export interface PlayGetInputAction {
  action: 'play_get_input';
  prompt: PcmoPrompt;
  input: CallerInputMode[];
  on_result: InputResultTarget;
  dtmf?: PcmoDtmf;
  retries?: PcmoRetries;
}
export interface InputAction {
  action: 'input';
  on_result: InputResultTarget;
  dtmf?: PcmoDtmf;
}
export interface ParamAction {
  action: 'param';
  /** At most 10 keys; string values at most 256 characters. */
  data: CallVariables;
}
export interface RecordAction {
  action: 'record';
  format?: RecordingFormat;
  channels?: RecordingChannels;
}
export interface HangupAction {
  action: 'hangup';
}

/** One action of a v3 PCMO pipeline: what `/voice/pcmo/transfer` and `/voice/pcmo/call` accept. */
export type PipelineAction =
  | ConnectAction
  | PlayAction
  | PlayGetInputAction
  | InputAction
  | ParamAction
  | RecordAction
  | HangupAction;

export type PipelineActionName = PipelineAction['action'];

/**
 * The legacy WebSocket `stream` action (spec §8). The v3 endpoints do not accept it: a pipeline holding one is
 * rejected by every v3 validator.
 */
export interface StreamAction {
  action: 'stream';
  ws_url: string;
  listen_mode?: StreamListenMode;
  voice_quality?: StreamVoiceQuality;
  stream_on_answer?: boolean;
}
export type StreamListenMode = 'caller' | 'callee' | 'both';
export type StreamVoiceQuality = '8000' | '16000';

/** Any action the builder can produce, legacy `stream` included. */
export type PcmoAction = PipelineAction | StreamAction;

// ---------------------------------------------------------------- wire: request bodies

/** Top-level call options (`options` of the call bodies). */
export interface OutboundCallOptionsBody {
  /** 30–7200 */
  max_duration_sec?: number;
  record?: boolean;
  /** 5–120 */
  ring_timeout_sec?: number;
}

export interface TransferBody {
  call_id: string;
  pipeline: PipelineAction[];
}

export interface HangupBody {
  call_id: string;
  /** 1–64 characters; the SDK sends `NORMAL_CLEARING` unless told otherwise. */
  cause?: string;
  /** 1–256 characters. */
  reason?: string;
}

/** Body of `/voice/ai/call`. */
export interface AiCallBody {
  caller_id: string;
  to_number: string;
  agent_id: string;
  options?: OutboundCallOptionsBody;
  variables?: CallVariables;
}

export interface FailoverBody extends PcmoConnectOptions {
  agent_id: string;
  strategy?: ConnectStrategy;
  metadata?: CallVariables;
}

/** What `ai.call` validates before choosing its endpoint: the AI body plus the failover fields. */
export interface AiCallRequest extends AiCallBody {
  app_id?: string;
  failover?: FailoverBody;
}

/** Body of `/voice/pcmo/call`. */
export interface PcmoCallBody {
  caller_id: string;
  to_number: string;
  app_id: string;
  pipeline: PipelineAction[];
  agent_id?: string;
  options?: OutboundCallOptionsBody;
  variables?: CallVariables;
}

/** Body of `/voice/flow/call`. */
export interface FlowCallBody {
  flow_id: string;
  org_id: string;
  caller_id: string;
  to_number: string;
  app_id: string;
  options?: OutboundCallOptionsBody;
  variables?: CallVariables;
}

/** Body of `POST /calls/{call_id}/actions/hangup` (spec §7.6). */
export interface CallActionHangupBody {
  cause?: string;
  reason?: string;
}

/** Blind form of `POST /calls/{call_id}/actions/transfer` (spec §7.6). */
export interface CallActionTransferBody {
  pipeline: PipelineAction[];
}

/**
 * A success body. Its shape is not documented (spec §7.5): a JSON object is returned unchanged, an empty body
 * as `{}`, anything else as `{ raw_response: <text> }`.
 */
export type PiopiyResponse = Record<string, unknown>;

// ---------------------------------------------------------------- input (camelCase)

export interface RecordingOptions {
  enabled?: boolean;
  channels?: RecordingChannels;
  format?: RecordingFormat;
}

export interface ConnectOptions {
  /** 10–7200 */
  maxDurationSec?: number;
  /** 5–120 */
  ringTimeoutSec?: number;
  machineDetection?: boolean;
  recording?: RecordingOptions;
  waitingMusic?: string;
}

/** Caller id as `callerId`, or `from` (the docs' spelling); either may carry `+`, spaces and dashes. */
export type CallerIdInput = { callerId: string; from?: never } | { from: string; callerId?: never };

export type ConnectParams = CallerIdInput & {
  strategy?: ConnectStrategy;
  options?: ConnectOptions;
  metadata?: CallVariables;
};

export type PlayPrompt =
  | { type: 'file'; fileName: string }
  | { type: 'say'; say: string; language: string; voiceId: string; /** 0.5–2.0 */ speed: number };

export interface DtmfInputOptions {
  minDigits?: number;
  maxDigits?: number;
  finishOnKey?: string;
  firstDigitTimeout?: number;
  interDigitTimeout?: number;
  flushBuffer?: boolean;
}

export interface InputRetryOptions {
  max?: number;
  noInputPrompt?: PlayPrompt;
  invalidPrompt?: PlayPrompt;
}

export interface StreamActionOptions {
  /** `ws://` or `wss://` */
  wsUrl: string;
  listenMode?: StreamListenMode;
  voiceQuality?: StreamVoiceQuality;
  streamOnAnswer?: boolean;
}

/** The seed's raw `connect`: wire params, where `from` may stand for `caller_id`. */
export interface RawConnectAction {
  action: 'connect';
  params: Omit<PcmoConnectParams, 'caller_id'> &
    ({ caller_id: string; from?: never } | { from: string; caller_id?: never });
  endpoints: readonly ConnectEndpoint[];
}

/** `T` with every array in it readonly: a literal written `as const` fits, and the client never mutates its input. */
export type ReadonlyArrays<T> = T extends readonly (infer Item)[]
  ? readonly ReadonlyArrays<Item>[]
  : T extends object
    ? { [K in keyof T]: ReadonlyArrays<T[K]> }
    : T;

/** A pipeline action written by hand in wire form (its arrays may be readonly: `as const` literals fit). */
export type RawPipelineAction = ReadonlyArrays<Exclude<PipelineAction, ConnectAction>> | RawConnectAction;

/** `T` as TypeScript infers it for a variable holding a literal without a type: every literal type widened. */
export type WidenedLiterals<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer Item)[]
        ? readonly WidenedLiterals<Item>[]
        : T extends object
          ? { [K in keyof T]: WidenedLiterals<T[K]> }
          : T;

/**
 * A raw action held in a variable declared without a type (`const pipeline = [{ action: 'connect', ... }]`, as the
 * seed writes it): TypeScript widens its literals (`'connect'` to `string`), so the compiler can no longer check
 * them. Accepted; the client checks every field when the pipeline is sent and throws a `PiopiyValidationError`
 * naming it. Annotate the variable `RawPipelineAction[]`, or use the builder, to have the compiler check it too.
 */
export type InferredRawPipelineAction = WidenedAction<RawPipelineAction>;
/**
 * One action widened, refusing the other actions' fields: without that, a widened hangup (`{ action: string }`)
 * would match any object with an action, and an inline `connect` missing its endpoints would compile.
 */
type WidenedAction<Action> = Action extends unknown
  ? WidenedLiterals<Action> & { readonly [Field in Exclude<FieldOf<RawPipelineAction>, keyof Action>]?: never }
  : never;
/** The field names of every member of a union. */
type FieldOf<T> = T extends unknown ? keyof T : never;

/** Anything that yields a v3 pipeline: a builder without legacy actions. */
export interface PipelineSource {
  build(): readonly PipelineAction[];
}
export type PipelineInput = PipelineSource | readonly RawPipelineAction[] | readonly InferredRawPipelineAction[];

export interface OutboundCallOptions {
  /** 30–7200 */
  maxDurationSec?: number;
  record?: boolean;
  /** 5–120 */
  ringTimeoutSec?: number;
}

export interface VoiceCallInput {
  callerId: string;
  toNumber: string;
  appId: string;
  /** The generated connect leg; `strategy` defaults to `sequential`. */
  connect?: { strategy?: ConnectStrategy; options?: ConnectOptions; metadata?: CallVariables };
  callOptions?: OutboundCallOptions;
  variables?: CallVariables;
}

export interface FailoverInput extends ConnectOptions {
  /** The second agent (UUID, different from the primary). */
  agentId: string;
  strategy?: ConnectStrategy;
  metadata?: CallVariables;
}

export interface AiCallInput {
  callerId: string;
  toNumber: string;
  agentId: string;
  options?: OutboundCallOptions;
  variables?: CallVariables;
  /** With failover the call goes through `/voice/pcmo/call`, and `appId` is required. */
  failover?: FailoverInput;
  appId?: string;
}

export interface PcmoCallInput {
  callerId: string;
  toNumber: string;
  appId: string;
  pipeline: PipelineInput;
  agentId?: string;
  options?: OutboundCallOptions;
  variables?: CallVariables;
}

export interface FlowCallInput {
  flowId: string;
  orgId: string;
  callerId: string;
  toNumber: string;
  appId: string;
  options?: OutboundCallOptions;
  variables?: CallVariables;
}

export interface HangupOptions {
  /** Default `NORMAL_CLEARING`. */
  cause?: string;
  reason?: string;
}
