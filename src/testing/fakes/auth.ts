// Who may call a fake: the key policy every fake vendor server takes (`rejectKey`, `requireKey`), and the ways a
// key travels in a request. The fakes never store a key, only whether one was present and accepted.

export interface FakeKeyPolicy {
  /** Refuse this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key. */
  requireKey?: string;
}

/** Whether the fake accepts `key`: any non-empty key but `rejectKey`, or only `requireKey` when that is set. */
export function isAcceptedKey(key: string | undefined, policy: FakeKeyPolicy): boolean {
  return key !== undefined && key !== '' && key !== policy.rejectKey && (policy.requireKey === undefined || key === policy.requireKey);
}

/** The key of an `Authorization: Bearer <key>` header as OpenAI reads it (case-sensitive scheme), or ''. */
export function bearerKey(authorization: string | undefined): string {
  return authorization?.startsWith('Bearer ') === true ? authorization.slice('Bearer '.length).trim() : '';
}

/** The credentials of a `Bearer <credentials>` value (any case), or undefined. */
export function bearerCredentials(value: string): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(value)?.[1];
}
