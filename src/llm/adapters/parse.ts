// Tool-call arguments arrive as raw JSON text; Anthropic and Gemini want them as objects.

export type JSONObject = { [key: string]: unknown };

export function isJSONObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON text parsed, or `undefined` when it is not valid JSON. */
export function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Tool-call arguments as an object; invalid JSON or a non-object becomes `{}` (providers accept only objects). */
export function parseToolArguments(text: string): JSONObject {
  const value = parseJSON(text);
  return isJSONObject(value) ? value : {};
}
