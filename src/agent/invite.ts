// The `join_room` invite: validated field by field, because it comes from the network. A bad invite is refused
// with a log line naming the field — it never throws into the signaling client, and never starts half a call.

export interface CallInvite {
  readonly roomName: string;
  /** Media access token (a LiveKit JWT on the platform). */
  readonly token: string;
  /** Media server URL. */
  readonly url: string;
  readonly callId: string;
  readonly agentId: string | undefined;
  readonly fromNumber: string | undefined;
  readonly toNumber: string | undefined;
  readonly metadata: unknown;
}

export type InviteParseResult = { ok: true; invite: CallInvite } | { ok: false; field: string; problem: string };

/** Metadata bigger than this is dropped (logged): it travels with every call and into every log line. */
export const MAX_METADATA_CHARS = 64 * 1024;

function optionalText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function parseInvite(payload: unknown): InviteParseResult {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, field: 'payload', problem: 'is not an object' };
  }
  const p = payload as Record<string, unknown>;
  for (const field of ['room_name', 'token', 'url'] as const) {
    const value = p[field];
    if (typeof value !== 'string' || value.trim() === '') {
      return { ok: false, field, problem: value === undefined ? 'is missing' : 'must be a non-empty string' };
    }
  }
  const roomName = p.room_name as string;
  if (roomName.length > 256) return { ok: false, field: 'room_name', problem: 'is longer than 256 characters' };
  const url = p.url as string;
  if (!/^(wss?|https?|piopiy-sim):\/\//.test(url)) {
    return { ok: false, field: 'url', problem: 'is not a ws(s):// or http(s):// URL' };
  }
  const callId = optionalText(p.call_id) ?? roomName;
  return {
    ok: true,
    invite: {
      roomName,
      token: p.token as string,
      url,
      callId,
      agentId: optionalText(p.agent_id),
      fromNumber: optionalText(p.from_number),
      toNumber: optionalText(p.to_number),
      metadata: parseMetadata(p.metadata),
    },
  };
}

/**
 * Normalises invite metadata like the platform's SDK: null stays null, non-strings pass through, a string has
 * its escaped braces (`\}`) unescaped and is parsed as JSON — twice when it was double-encoded — and stays the
 * raw string when it is not JSON.
 */
export function parseMetadata(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return value;
  if (value.length > MAX_METADATA_CHARS) return null;
  const text = value.replaceAll('\\}', '}');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'string') {
      try {
        return JSON.parse(parsed) as unknown;
      } catch {
        return parsed;
      }
    }
    return parsed;
  } catch {
    return value;
  }
}
