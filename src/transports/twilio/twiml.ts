// The TwiML our answer webhook returns, and the TwiML a transfer redirects the call to.

/** Escapes text for an XML attribute or element. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `<Connect><Stream>`: a bidirectional stream to `streamUrl` (wss://, no query string: Twilio passes none), with
 * `parameters` arriving in the start message's customParameters.
 */
export function connectStreamTwiml(streamUrl: string, parameters: Readonly<Record<string, string>> = {}): string {
  const children = Object.entries(parameters)
    .map(([name, value]) => `<Parameter name="${escapeXml(name)}" value="${escapeXml(value)}"/>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${escapeXml(streamUrl)}">${children}</Stream></Connect></Response>`;
}

/** `<Dial>`: the call leaves the stream and rings `to` (a number or a `sip:` URI). */
export function dialTwiml(to: string, options: { callerId?: string } = {}): string {
  const callerId = options.callerId === undefined ? '' : ` callerId="${escapeXml(options.callerId)}"`;
  const target = to.startsWith('sip:') ? `<Sip>${escapeXml(to)}</Sip>` : `<Number>${escapeXml(to)}</Number>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial${callerId}>${target}</Dial></Response>`;
}
