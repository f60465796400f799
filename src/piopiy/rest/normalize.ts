// Input normalisation: camelCase inputs to wire keys, the docs' `from` alias to `caller_id`, and phone numbers
// as people write them (`+91 98765-43210`) to the digits the platform requires (spec decisions 1). Nothing here
// judges a value: whatever is still wrong afterwards is reported by the validators, with its path.
import { PiopiyValidationError } from './errors.js';
import { isPlainObject } from './validation.js';

/** camelCase input keys and their wire names. One table: no camelCase name means two things. */
const WIRE_KEYS: Readonly<Record<string, string>> = {
  callId: 'call_id',
  callerId: 'caller_id',
  toNumber: 'to_number',
  appId: 'app_id',
  agentId: 'agent_id',
  flowId: 'flow_id',
  orgId: 'org_id',
  maxDurationSec: 'max_duration_sec',
  ringTimeoutSec: 'ring_timeout_sec',
  machineDetection: 'machine_detection',
  waitingMusic: 'waiting_music',
  fileName: 'file_name',
  voiceId: 'voice_id',
  onResult: 'on_result',
  minDigits: 'min_digits',
  maxDigits: 'max_digits',
  finishOnKey: 'finish_on_key',
  firstDigitTimeout: 'first_digit_timeout',
  interDigitTimeout: 'inter_digit_timeout',
  flushBuffer: 'flush_buffer',
  noInputPrompt: 'no_input_prompt',
  invalidPrompt: 'invalid_prompt',
  wsUrl: 'ws_url',
  listenMode: 'listen_mode',
  voiceQuality: 'voice_quality',
  streamOnAnswer: 'stream_on_answer',
};

/** Fields whose value is the user's own map: its keys are data, never renamed. */
const USER_MAP_KEYS = new Set(['metadata', 'variables', 'data', 'headers']);

type JsonObject = Record<string, unknown>;

/** Own enumerable assignment that stays an own key even for `__proto__` (inputs may come from JSON). */
function assign(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Renames known camelCase keys to wire keys, recursively. Unknown keys pass through untouched so the validator
 * names them as written; a camelCase key whose wire name is also present stays too (and is reported as unknown).
 * `undefined` values are dropped, as JSON would.
 */
export function toWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toWire);
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const wireKey = WIRE_KEYS[key];
    const target = wireKey !== undefined && value[wireKey] === undefined ? wireKey : key;
    // User maps are flat (scalar values): a shallow copy is a snapshot, so later edits by the caller do not leak in.
    assign(out, target, USER_MAP_KEYS.has(target) ? (isPlainObject(item) ? { ...item } : item) : toWire(item));
  }
  return out;
}

/** `+91 98765-43210` -> `919876543210`: strips spaces, dashes and one leading `+`; other values unchanged. */
export function normalizePhone(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/[\s-]/g, '').replace(/^\+/, '') : value;
}

/** Top-level `caller_id` / `to_number` of a call body, normalised in place. */
export function normalizeParties(body: JsonObject): JsonObject {
  for (const key of ['caller_id', 'to_number']) {
    if (body[key] !== undefined) assign(body, key, normalizePhone(body[key]));
  }
  return body;
}

/** A builder (anything with `build()`) yields its actions; anything else is taken as the pipeline itself. */
export function resolvePipeline(input: unknown): unknown {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const build = (input as { build?: unknown }).build;
    if (typeof build === 'function') return (build as () => unknown).call(input);
  }
  return input;
}

/**
 * Connect actions: `params.from` becomes `params.caller_id`, and caller ids and PSTN numbers lose `+`, spaces
 * and dashes. Returns new objects; what is not a connect action is returned as is.
 */
export function normalizePipeline(pipeline: unknown, field = 'pipeline'): unknown {
  if (!Array.isArray(pipeline)) return pipeline;
  return pipeline.map((action: unknown, index) => {
    if (!isPlainObject(action) || action.action !== 'connect') return action;
    const out: JsonObject = { ...action };
    if (isPlainObject(action.params)) out.params = normalizeConnectParams(action.params, `${field}[${index}].params`);
    if (Array.isArray(action.endpoints)) out.endpoints = action.endpoints.map(normalizeEndpoint);
    return out;
  });
}

function normalizeConnectParams(params: JsonObject, field: string): JsonObject {
  const { from, ...rest } = params;
  if (from === undefined) return rest.caller_id === undefined ? rest : { ...rest, caller_id: normalizePhone(rest.caller_id) };
  if (rest.caller_id !== undefined) {
    throw new PiopiyValidationError(`${field} must not contain both caller_id and from (from is an alias of caller_id).`, field);
  }
  return { caller_id: normalizePhone(from), ...rest };
}

function normalizeEndpoint(endpoint: unknown): unknown {
  if (!isPlainObject(endpoint) || endpoint.type !== 'pstn' || endpoint.number === undefined) return endpoint;
  return { ...endpoint, number: normalizePhone(endpoint.number) };
}

/** A copy without `undefined` values (they would vanish in JSON anyway; keeping them out keeps bodies exact). */
export function compact<T extends JsonObject>(obj: T): T {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(obj)) if (value !== undefined) assign(out, key, value);
  return out as T;
}
