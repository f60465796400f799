// Validators of the v3 request bodies, mirroring the platform's schemas (spec §7.3–7.4, as the v3 SDKs check
// them). The client runs them before sending, so a bad body fails fast with a precise path and never reaches
// a live call; the local simulator runs the same functions, so it answers exactly like the client would.
//
// They check wire bodies (snake_case, after alias normalisation) and stop at the first problem, checking in a
// fixed order: object shape, missing keys, unknown keys, then each field. Messages are the platform's plain
// sentences; `field` is the path of the offending value (`body` for the top level of a request).
import { PiopiyValidationError } from './errors.js';
import type {
  AiCallBody,
  AiCallRequest,
  CallActionHangupBody,
  CallActionTransferBody,
  FlowCallBody,
  HangupBody,
  PcmoCallBody,
  PipelineAction,
  TransferBody,
} from './types.js';

export const PHONE_PATTERN = /^[1-9][0-9]{6,15}$/;
// The primitives below are exported for the other validators of this folder (call control, agents); the
// package exports only the body validators (see ./index.ts).
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const VARIABLE_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HTTP_URL_PATTERN = /^https?:\/\//;

const V3_ACTIONS = ['connect', 'hangup', 'input', 'param', 'play', 'play_get_input', 'record'] as const;

type JsonObject = Record<string, unknown>;

export function fail(message: string, field: string): never {
  throw new PiopiyValidationError(message, field);
}

/** Present means own and not `undefined`: `undefined` values are dropped by JSON, so they are never sent. */
export function has(obj: JsonObject, key: string): boolean {
  return Object.hasOwn(obj, key) && obj[key] !== undefined;
}

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectObject(value: unknown, field: string): JsonObject {
  if (!isPlainObject(value)) return fail(`${field} must be an object.`, field);
  return value;
}

function expectArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(`${field} must be an array.`, field);
  return value as unknown[];
}

export function checkKeys(obj: JsonObject, required: readonly string[], allowed: readonly string[], field: string): void {
  const missing = required.filter((key) => !has(obj, key)).sort();
  if (missing.length > 0) fail(`Missing required field(s): ${missing.join(', ')}`, field);
  rejectUnknown(obj, allowed, field, 'field');
}

function rejectUnknown(obj: JsonObject, allowed: readonly string[], field: string, noun: 'field' | 'option'): void {
  const unknown = Object.keys(obj)
    .filter((key) => obj[key] !== undefined && !allowed.includes(key))
    .sort();
  if (unknown.length > 0) fail(`Unknown ${noun}(s): ${unknown.join(', ')}`, field);
}

/** Length in code points, as JSON Schema counts it. */
function textLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function expectString(value: unknown, field: string, minLength?: number, maxLength?: number): string {
  if (typeof value !== 'string') fail(`${field} must be a string.`, field);
  const text = value;
  if (minLength !== undefined && textLength(text) < minLength) {
    fail(`${field} must be at least ${minLength} characters long.`, field);
  }
  if (maxLength !== undefined && textLength(text) > maxLength) {
    fail(`${field} must be at most ${maxLength} characters long.`, field);
  }
  return text;
}

export function expectBoolean(value: unknown, field: string): void {
  if (typeof value !== 'boolean') fail(`${field} must be a boolean.`, field);
}

export function expectInteger(value: unknown, field: string, minimum?: number, maximum?: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(`${field} must be an integer.`, field);
  checkRange(value, field, minimum, maximum, String);
}

/** Bounds of a real-valued field read as reals (`2.0`, not `2`). */
const formatReal = (n: number): string => (Number.isInteger(n) ? n.toFixed(1) : String(n));

function expectNumber(value: unknown, field: string, minimum?: number, maximum?: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`${field} must be a number.`, field);
  checkRange(value, field, minimum, maximum, formatReal);
}

function checkRange(value: number, field: string, minimum: number | undefined, maximum: number | undefined, format: (n: number) => string): void {
  if (minimum !== undefined && value < minimum) fail(`${field} must be >= ${format(minimum)}.`, field);
  if (maximum !== undefined && value > maximum) fail(`${field} must be <= ${format(maximum)}.`, field);
}

function expectOneOf(value: unknown, field: string, allowed: readonly string[], message: string): void {
  expectString(value, field);
  if (!allowed.includes(value as string)) fail(`${field} ${message}.`, field);
}

export function expectPhone(value: unknown, field: string): void {
  expectString(value, field);
  if (!PHONE_PATTERN.test(value as string)) fail(`${field} must match ^[1-9][0-9]{6,15}$.`, field);
}

function expectUuid(value: unknown, field: string): void {
  expectString(value, field);
  if (!UUID_PATTERN.test(value as string)) fail(`${field} must be a valid UUID string.`, field);
}

export function validateVariables(value: unknown, field: string, limits: { maxEntries?: number; maxStringLength?: number } = {}): void {
  const data = expectObject(value, field);
  const keys = Object.keys(data).filter((key) => data[key] !== undefined);
  if (limits.maxEntries !== undefined && keys.length > limits.maxEntries) {
    fail(`${field} supports at most ${limits.maxEntries} entries.`, field);
  }
  for (const key of keys) {
    if (!VARIABLE_KEY_PATTERN.test(key)) fail(`${field} has invalid key '${key}'.`, field);
    const item = data[key];
    if (typeof item === 'string') {
      if (limits.maxStringLength !== undefined && textLength(item) > limits.maxStringLength) {
        fail(`${field}.${key} exceeds max string length ${limits.maxStringLength}.`, `${field}.${key}`);
      }
    } else if (typeof item !== 'boolean' && !(typeof item === 'number' && Number.isFinite(item))) {
      fail(`${field}.${key} must be string, number, or boolean.`, `${field}.${key}`);
    }
  }
}

function validateStrategy(value: unknown, field: string): void {
  expectOneOf(value, field, ['simultaneous', 'sequential'], 'must be simultaneous or sequential');
}

/** Top-level `options` of the call bodies. */
function validateCallOptions(value: unknown, field: string): void {
  const options = expectObject(value, field);
  rejectUnknown(options, ['max_duration_sec', 'record', 'ring_timeout_sec'], field, 'option');
  if (has(options, 'max_duration_sec')) expectInteger(options.max_duration_sec, `${field}.max_duration_sec`, 30, 7200);
  if (has(options, 'record')) expectBoolean(options.record, `${field}.record`);
  if (has(options, 'ring_timeout_sec')) expectInteger(options.ring_timeout_sec, `${field}.ring_timeout_sec`, 5, 120);
}

function validateRecording(value: unknown, field: string): void {
  const recording = expectObject(value, field);
  checkKeys(recording, [], ['enabled', 'channels', 'format'], field);
  if (has(recording, 'enabled')) expectBoolean(recording.enabled, `${field}.enabled`);
  if (has(recording, 'channels')) expectOneOf(recording.channels, `${field}.channels`, ['dual', 'single'], 'must be dual or single');
  if (has(recording, 'format')) expectOneOf(recording.format, `${field}.format`, ['mp3', 'wav'], 'must be mp3 or wav');
}

/** The leg options shared by `connect.params.options` and `failover`. */
function validateLegOptions(options: JsonObject, field: string): void {
  if (has(options, 'max_duration_sec')) expectInteger(options.max_duration_sec, `${field}.max_duration_sec`, 10, 7200);
  if (has(options, 'ring_timeout_sec')) expectInteger(options.ring_timeout_sec, `${field}.ring_timeout_sec`, 5, 120);
  if (has(options, 'machine_detection')) expectBoolean(options.machine_detection, `${field}.machine_detection`);
  if (has(options, 'waiting_music')) expectString(options.waiting_music, `${field}.waiting_music`);
  if (has(options, 'recording')) validateRecording(options.recording, `${field}.recording`);
}

const LEG_OPTION_KEYS = ['max_duration_sec', 'ring_timeout_sec', 'machine_detection', 'recording', 'waiting_music'] as const;

function validateFailover(value: unknown, primaryAgentId: unknown, field: string): void {
  const failover = expectObject(value, field);
  checkKeys(failover, ['agent_id'], ['agent_id', 'strategy', ...LEG_OPTION_KEYS, 'metadata'], field);
  expectUuid(failover.agent_id, `${field}.agent_id`);
  if (failover.agent_id === primaryAgentId) fail(`${field}.agent_id cannot be same as primary agent_id.`, `${field}.agent_id`);
  if (has(failover, 'strategy')) validateStrategy(failover.strategy, `${field}.strategy`);
  validateLegOptions(failover, field);
  if (has(failover, 'metadata')) validateVariables(failover.metadata, `${field}.metadata`);
}

function validatePrompt(value: unknown, field: string): void {
  const prompt = expectObject(value, field);
  rejectUnknown(prompt, ['type', 'file_name', 'say', 'voice_id', 'language', 'speed'], field, 'field');
  if (!has(prompt, 'type')) fail(`${field}.type is required.`, `${field}.type`);
  expectOneOf(prompt.type, `${field}.type`, ['file', 'say'], 'must be one of: file, say');
  const needed = prompt.type === 'file' ? ['file_name'] : ['say', 'language', 'voice_id', 'speed'];
  for (const key of needed) {
    if (!has(prompt, key)) fail(`${field}.${key} is required when type is ${String(prompt.type)}.`, `${field}.${key}`);
  }
  for (const key of ['file_name', 'say', 'language', 'voice_id']) {
    if (has(prompt, key)) expectString(prompt[key], `${field}.${key}`);
  }
  if (has(prompt, 'speed')) expectNumber(prompt.speed, `${field}.speed`, 0.5, 2.0);
}

function validateDtmf(value: unknown, field: string): void {
  const dtmf = expectObject(value, field);
  const intKeys = ['min_digits', 'max_digits', 'first_digit_timeout', 'inter_digit_timeout'];
  rejectUnknown(dtmf, [...intKeys, 'finish_on_key', 'flush_buffer'], field, 'field');
  for (const key of intKeys) {
    if (has(dtmf, key)) expectInteger(dtmf[key], `${field}.${key}`, 1);
  }
  if (has(dtmf, 'finish_on_key')) expectString(dtmf.finish_on_key, `${field}.finish_on_key`, 1, 1);
  if (has(dtmf, 'flush_buffer')) expectBoolean(dtmf.flush_buffer, `${field}.flush_buffer`);
}

function validateOnResult(value: unknown, field: string): void {
  const onResult = expectObject(value, field);
  rejectUnknown(onResult, ['type', 'ref', 'url'], field, 'field');
  if (!has(onResult, 'type')) fail(`${field}.type is required.`, `${field}.type`);
  expectOneOf(onResult.type, `${field}.type`, ['pcmo', 'url'], 'must be one of: pcmo, url');
  if (onResult.type === 'pcmo' && !has(onResult, 'ref')) fail(`${field}.ref is required when type is pcmo.`, `${field}.ref`);
  if (onResult.type === 'url' && !has(onResult, 'url')) fail(`${field}.url is required when type is url.`, `${field}.url`);
  if (has(onResult, 'ref')) expectString(onResult.ref, `${field}.ref`);
  if (has(onResult, 'url')) {
    const url = expectString(onResult.url, `${field}.url`);
    if (!HTTP_URL_PATTERN.test(url)) fail(`${field}.url must start with http:// or https://.`, `${field}.url`);
  }
}

function validateRetries(value: unknown, field: string): void {
  const retries = expectObject(value, field);
  rejectUnknown(retries, ['max', 'no_input_prompt', 'invalid_prompt'], field, 'field');
  if (has(retries, 'max')) expectInteger(retries.max, `${field}.max`, 0);
  if (has(retries, 'no_input_prompt')) validatePrompt(retries.no_input_prompt, `${field}.no_input_prompt`);
  if (has(retries, 'invalid_prompt')) validatePrompt(retries.invalid_prompt, `${field}.invalid_prompt`);
}

function validateEndpoints(value: unknown, field: string): void {
  const endpoints = expectArray(value, field);
  if (endpoints.length < 1) fail(`${field} must contain at least one endpoint.`, field);
  let agentCount = 0;
  endpoints.forEach((item, index) => {
    const path = `${field}[${index}]`;
    const endpoint = expectObject(item, path);
    checkKeys(endpoint, ['type'], ['type', 'number', 'uri', 'id', 'headers'], path);
    expectOneOf(endpoint.type, `${path}.type`, ['pstn', 'sip', 'agent'], 'must be one of: pstn, sip, agent');
    if (endpoint.type === 'agent') {
      if (!has(endpoint, 'id')) fail(`${path}.id is required when type is agent.`, `${path}.id`);
      expectUuid(endpoint.id, `${path}.id`);
      agentCount++;
      if (agentCount > 2) fail('A maximum of two agent endpoints is allowed.', path);
    } else {
      const [type, key] = endpoint.type === 'pstn' ? ['pstn', 'number'] : ['sip', 'uri'];
      if (!has(endpoint, key)) fail(`${path}.${key} is required when type is ${type}.`, `${path}.${key}`);
      if (key === 'number') expectPhone(endpoint.number, `${path}.number`);
      else expectString(endpoint.uri, `${path}.uri`);
      // The platform hunts through PSTN/SIP legs first and falls back to agents, so agents close the list.
      if (agentCount > 0) fail('Agent endpoints must be at the end of connect.endpoints.', path);
    }
    if (has(endpoint, 'headers')) expectObject(endpoint.headers, `${path}.headers`);
  });
}

function validateConnect(action: JsonObject, field: string): void {
  checkKeys(action, ['action', 'params', 'endpoints'], ['action', 'params', 'endpoints'], field);
  const paramsField = `${field}.params`;
  const params = expectObject(action.params, paramsField);
  checkKeys(params, ['caller_id'], ['strategy', 'caller_id', 'options', 'metadata'], paramsField);
  expectPhone(params.caller_id, `${paramsField}.caller_id`);
  if (has(params, 'strategy')) validateStrategy(params.strategy, `${paramsField}.strategy`);
  if (has(params, 'options')) {
    const optionsField = `${paramsField}.options`;
    const options = expectObject(params.options, optionsField);
    rejectUnknown(options, LEG_OPTION_KEYS, optionsField, 'field');
    validateLegOptions(options, optionsField);
  }
  if (has(params, 'metadata')) validateVariables(params.metadata, `${paramsField}.metadata`);
  validateEndpoints(action.endpoints, `${field}.endpoints`);
}

function validatePlayGetInput(action: JsonObject, field: string): void {
  checkKeys(action, ['action', 'prompt', 'input', 'on_result'], ['action', 'prompt', 'input', 'dtmf', 'retries', 'on_result'], field);
  validatePrompt(action.prompt, `${field}.prompt`);
  const inputField = `${field}.input`;
  const modes = expectArray(action.input, inputField);
  if (modes.length === 0) fail(`${inputField} must contain at least one item.`, inputField);
  const seen = new Set<unknown>();
  modes.forEach((mode, index) => {
    expectOneOf(mode, `${inputField}[${index}]`, ['dtmf', 'speech'], 'must be dtmf or speech');
    if (seen.has(mode)) fail(`${inputField} contains duplicate value '${String(mode)}'.`, inputField);
    seen.add(mode);
  });
  if (has(action, 'dtmf')) validateDtmf(action.dtmf, `${field}.dtmf`);
  if (has(action, 'retries')) validateRetries(action.retries, `${field}.retries`);
  validateOnResult(action.on_result, `${field}.on_result`);
}

function validateAction(name: (typeof V3_ACTIONS)[number], action: JsonObject, field: string): void {
  switch (name) {
    case 'connect':
      validateConnect(action, field);
      return;
    case 'play':
      checkKeys(action, ['action', 'file_name'], ['action', 'file_name'], field);
      expectString(action.file_name, `${field}.file_name`);
      return;
    case 'play_get_input':
      validatePlayGetInput(action, field);
      return;
    case 'param':
      checkKeys(action, ['action', 'data'], ['action', 'data'], field);
      validateVariables(action.data, `${field}.data`, { maxEntries: 10, maxStringLength: 256 });
      return;
    case 'record':
      checkKeys(action, ['action'], ['action', 'format', 'channels'], field);
      if (has(action, 'format')) expectOneOf(action.format, `${field}.format`, ['mp3', 'wav'], 'must be mp3 or wav');
      if (has(action, 'channels')) expectOneOf(action.channels, `${field}.channels`, ['single', 'dual'], 'must be single or dual');
      return;
    case 'hangup':
      checkKeys(action, ['action'], ['action'], field);
      return;
    case 'input':
      checkKeys(action, ['action', 'on_result'], ['action', 'dtmf', 'on_result'], field);
      if (has(action, 'dtmf')) validateDtmf(action.dtmf, `${field}.dtmf`);
      validateOnResult(action.on_result, `${field}.on_result`);
      return;
  }
}

/** A v3 PCMO pipeline: at least one action, each one of {@link V3_ACTIONS}. */
export function validatePipeline(value: unknown, field = 'pipeline'): PipelineAction[] {
  const actions = expectArray(value, field);
  if (actions.length < 1) fail(`${field} must contain at least one action.`, field);
  actions.forEach((item, index) => {
    const path = `${field}[${index}]`;
    const action = expectObject(item, path);
    if (!has(action, 'action')) fail(`${path}.action is required.`, `${path}.action`);
    const name = expectString(action.action, `${path}.action`);
    if (!(V3_ACTIONS as readonly string[]).includes(name)) {
      // A legacy stream action is the one likely mistake here: say why it is refused, not only that it is.
      const legacy = name === 'stream' ? ' (stream is a legacy WebSocket action the v3 API does not accept)' : '';
      fail(`${path}.action must be one of: ${V3_ACTIONS.join(', ')}${legacy}.`, `${path}.action`);
    }
    validateAction(name as (typeof V3_ACTIONS)[number], action, path);
  });
  return actions as PipelineAction[];
}

/** Body of `POST /voice/pcmo/transfer`. */
export function validateTransferBody(value: unknown): TransferBody {
  const body = expectObject(value, 'body');
  checkKeys(body, ['call_id', 'pipeline'], ['call_id', 'pipeline'], 'body');
  expectUuid(body.call_id, 'call_id');
  validatePipeline(body.pipeline, 'pipeline');
  return body as unknown as TransferBody;
}

/** Body of `POST /voice/call/hangup`. */
export function validateHangupBody(value: unknown): HangupBody {
  const body = expectObject(value, 'body');
  checkKeys(body, ['call_id'], ['call_id', 'cause', 'reason'], 'body');
  expectUuid(body.call_id, 'call_id');
  validateHangupCause(body);
  return body as unknown as HangupBody;
}

function validateHangupCause(body: JsonObject): void {
  if (has(body, 'cause')) expectString(body.cause, 'cause', 1, 64);
  if (has(body, 'reason')) expectString(body.reason, 'reason', 1, 256);
}

function validatePartyFields(body: JsonObject): void {
  expectPhone(body.caller_id, 'caller_id');
  expectPhone(body.to_number, 'to_number');
}

function validateOptionsAndVariables(body: JsonObject): void {
  if (has(body, 'options')) validateCallOptions(body.options, 'options');
  if (has(body, 'variables')) validateVariables(body.variables, 'variables');
}

/** Body of `POST /voice/ai/call` (no failover: that goes to `/voice/pcmo/call`). */
export function validateAiCallBody(value: unknown): AiCallBody {
  const body = expectObject(value, 'body');
  checkKeys(body, ['caller_id', 'to_number', 'agent_id'], ['caller_id', 'to_number', 'agent_id', 'options', 'variables'], 'body');
  validatePartyFields(body);
  expectUuid(body.agent_id, 'agent_id');
  validateOptionsAndVariables(body);
  return body as unknown as AiCallBody;
}

/** What `ai.call` accepts before it picks an endpoint: the AI call fields plus `failover` and its `app_id`. */
export function validateAiCallRequest(value: unknown): AiCallRequest {
  const body = expectObject(value, 'body');
  checkKeys(
    body,
    ['caller_id', 'to_number', 'agent_id'],
    ['caller_id', 'to_number', 'agent_id', 'options', 'variables', 'app_id', 'failover'],
    'body',
  );
  validatePartyFields(body);
  expectUuid(body.agent_id, 'agent_id');
  validateOptionsAndVariables(body);
  if (has(body, 'failover')) {
    if (!has(body, 'app_id')) fail('app_id is required when failover is provided.', 'app_id');
    expectString(body.app_id, 'app_id');
    validateFailover(body.failover, body.agent_id, 'failover');
  } else if (has(body, 'app_id')) {
    fail('app_id is only supported when failover is provided.', 'app_id');
  }
  return body as unknown as AiCallRequest;
}

/** Body of `POST /voice/pcmo/call` (used by `voice.call`, `pcmo.call` and `ai.call` with failover). */
export function validatePcmoCallBody(value: unknown): PcmoCallBody {
  const body = expectObject(value, 'body');
  checkKeys(
    body,
    ['caller_id', 'to_number', 'pipeline', 'app_id'],
    ['caller_id', 'to_number', 'pipeline', 'app_id', 'agent_id', 'options', 'variables'],
    'body',
  );
  validatePartyFields(body);
  expectString(body.app_id, 'app_id');
  validatePipeline(body.pipeline, 'pipeline');
  if (has(body, 'agent_id')) expectUuid(body.agent_id, 'agent_id');
  validateOptionsAndVariables(body);
  return body as unknown as PcmoCallBody;
}

/** Body of `POST /voice/flow/call`. */
export function validateFlowCallBody(value: unknown): FlowCallBody {
  const body = expectObject(value, 'body');
  const required = ['flow_id', 'org_id', 'caller_id', 'to_number', 'app_id'];
  checkKeys(body, required, [...required, 'options', 'variables'], 'body');
  expectUuid(body.flow_id, 'flow_id');
  expectUuid(body.org_id, 'org_id');
  validatePartyFields(body);
  expectString(body.app_id, 'app_id');
  validateOptionsAndVariables(body);
  return body as unknown as FlowCallBody;
}

/** Body of `POST /calls/{call_id}/actions/hangup` (spec §7.6); same limits as the v3 hangup. */
export function validateCallActionHangupBody(value: unknown): CallActionHangupBody {
  const body = expectObject(value, 'body');
  checkKeys(body, [], ['cause', 'reason'], 'body');
  validateHangupCause(body);
  return body;
}

/** Blind form of `POST /calls/{call_id}/actions/transfer` (spec §7.6): `{ pipeline }` only. */
export function validateCallActionTransferBody(value: unknown): CallActionTransferBody {
  const body = expectObject(value, 'body');
  checkKeys(body, ['pipeline'], ['pipeline'], 'body');
  validatePipeline(body.pipeline, 'pipeline');
  return body as unknown as CallActionTransferBody;
}
