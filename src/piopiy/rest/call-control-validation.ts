// Validators of the call-control bodies of spec §7.6 (`POST /calls/{call_id}/actions/transfer`, warm form) and
// of the AI-agent management bodies (docs "AI Agents", `https://api.piopiy.com/v1`). Same rules and messages as
// ./validation.ts; where the sources give no limit, none is invented (see docs/piopiy-call-control.md).
import type { RouteNumberBody, CreateAgentBody } from './agents.js';
import type { WarmTransferBody } from './call-control.js';
import {
  checkKeys,
  expectBoolean,
  expectInteger,
  expectObject,
  expectPhone,
  expectString,
  fail,
  has,
  validateVariables,
} from './validation.js';

const WARM_TRANSFER_KEYS = [
  'to_number',
  'sip_uri',
  'caller_id',
  'timeout_sec',
  'confirm',
  'hold_audio',
  'transfer_summary',
  'sip_headers',
  'variables',
];
const SIP_URI_PATTERN = /^sips?:[^\s]+$/;
const SIP_HEADER_PATTERN = /^X-[A-Za-z0-9-]+$/;
/** E.164 as the management API's example writes it: `+` and 8–16 digits. */
const E164_PATTERN = /^\+[1-9][0-9]{6,15}$/;

/** Warm form of `POST /calls/{call_id}/actions/transfer`: exactly one destination, the optional extras. */
export function validateWarmTransferBody(value: unknown): WarmTransferBody {
  const body = expectObject(value, 'body');
  checkKeys(body, [], WARM_TRANSFER_KEYS, 'body');
  const destinations = ['to_number', 'sip_uri'].filter((key) => has(body, key));
  if (destinations.length !== 1) fail('Exactly one of to_number or sip_uri is required.', 'body');
  if (has(body, 'to_number')) expectPhone(body.to_number, 'to_number');
  if (has(body, 'sip_uri')) {
    const uri = expectString(body.sip_uri, 'sip_uri');
    if (!SIP_URI_PATTERN.test(uri)) fail('sip_uri must be a SIP URI (sip:user@host).', 'sip_uri');
  }
  if (has(body, 'caller_id')) expectPhone(body.caller_id, 'caller_id');
  // How long the human's phone rings; the platform's bounds are not published: only "a whole number of seconds".
  if (has(body, 'timeout_sec')) expectInteger(body.timeout_sec, 'timeout_sec', 1);
  if (has(body, 'confirm')) expectBoolean(body.confirm, 'confirm');
  if (has(body, 'hold_audio') && body.hold_audio !== true) {
    expectString(body.hold_audio, 'hold_audio', 1);
  }
  if (has(body, 'transfer_summary')) expectString(body.transfer_summary, 'transfer_summary', 1);
  if (has(body, 'sip_headers')) {
    const headers = expectObject(body.sip_headers, 'sip_headers');
    for (const [name, header] of Object.entries(headers)) {
      const field = `sip_headers.${name}`;
      if (!SIP_HEADER_PATTERN.test(name)) fail(`${field}: only X- headers may be sent.`, field);
      expectString(header, field);
    }
  }
  if (has(body, 'variables')) validateVariables(body.variables, 'variables');
  return body;
}

/** Body of `POST /ai-agents`. */
export function validateCreateAgentBody(value: unknown): CreateAgentBody {
  const body = expectObject(value, 'body');
  checkKeys(body, ['name'], ['name', 'language'], 'body');
  expectString(body.name, 'name', 1);
  if (has(body, 'language')) expectString(body.language, 'language', 1);
  return body as unknown as CreateAgentBody;
}

/** Body of `POST /phone-number-routing`. */
export function validateRouteNumberBody(value: unknown): RouteNumberBody {
  const body = expectObject(value, 'body');
  checkKeys(body, ['phone_number', 'route_type', 'agent_id'], ['phone_number', 'route_type', 'agent_id'], 'body');
  const phone = expectString(body.phone_number, 'phone_number');
  if (!E164_PATTERN.test(phone)) fail('phone_number must match ^\\+[1-9][0-9]{6,15}$.', 'phone_number');
  if (body.route_type !== 'ai_agent') fail('route_type must be ai_agent.', 'route_type');
  expectString(body.agent_id, 'agent_id', 1);
  return body as unknown as RouteNumberBody;
}

/** An id that goes into a URL path (`/calls/{id}`, `/transfers/{id}`, `/ai-agents/{id}`): a non-empty string. */
export function validatePathId(value: unknown, field: string): string {
  return expectString(value, field, 1);
}
