// The Plivo XML our answer webhook returns, and the XML a transfer fetches.
import { escapeXml } from '../twilio/twiml.js';
import type { PlivoContentType } from './serializer.js';

/**
 * `<Stream bidirectional="true" keepCallAlive="true">`: the call stays in the stream (nothing after it runs) until
 * the stream ends; its audio both ways in `contentType`.
 */
export function plivoStreamXml(streamUrl: string, contentType: PlivoContentType): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><Response>' +
    `<Stream bidirectional="true" keepCallAlive="true" audioTrack="inbound" contentType="${escapeXml(contentType)}">${escapeXml(streamUrl)}</Stream>` +
    '</Response>'
  );
}

/** `<Dial>`: the call leaves the stream and rings `to` (a number, or a `sip:` URI as a `<User>`). */
export function plivoDialXml(to: string, options: { callerId?: string } = {}): string {
  const callerId = options.callerId === undefined ? '' : ` callerId="${escapeXml(options.callerId)}"`;
  const target = to.startsWith('sip:') ? `<User>${escapeXml(to)}</User>` : `<Number>${escapeXml(to.replace(/^\+/, ''))}</Number>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial${callerId}>${target}</Dial></Response>`;
}
