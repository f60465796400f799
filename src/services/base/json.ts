// Reading the JSON vendors send (HTTP error bodies, SSE events, WebSocket messages): parsed without throwing, and
// fields picked out without trusting their types.

/** JSON text parsed, or undefined when it is not JSON. */
export function parseJSONText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first of the named fields that holds a non-empty string. */
export function stringField(record: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = record[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}
