// One call of the fake Twilio (./twilio.ts): a FakeStreamCall speaking Twilio's Media Streams protocol
// (docs/carriers.md): 20 ms μ-law packets, camelCase fields, our messages checked as Twilio would.
import { randomUUID } from 'node:crypto';
import { mulawToPcm, pcmToMulaw } from '../../audio/index.js';
import { FakeStreamCall, isBase64Payload, readMarkOrClear, type FakeStreamCallEndReason, type FakeStreamProtocol, type FakeStreamRead } from './fake-stream-call.js';

export type FakeTwilioCallEndReason = FakeStreamCallEndReason;

export class FakeTwilioCall extends FakeStreamCall {
  readonly callSid: string;
  readonly streamSid: string;

  constructor(
    readonly from: string,
    readonly to: string,
    readonly accountSid: string,
    networkDelayMs: number,
  ) {
    const callSid = `CA${randomUUID().replace(/-/g, '')}`;
    const streamSid = `MZ${randomUUID().replace(/-/g, '')}`;
    const parameters: Record<string, string> = {};
    const protocol: FakeStreamProtocol = {
      sampleRate: 8000,
      packetMs: 20,
      opening: () => [
        { event: 'connected', protocol: 'Call', version: '1.0.0' },
        {
          event: 'start',
          streamSid,
          start: {
            accountSid,
            streamSid,
            callSid,
            tracks: ['inbound'],
            customParameters: parameters,
            mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          },
        },
      ],
      media: (samples, tick) => ({
        event: 'media',
        streamSid,
        media: { track: 'inbound', chunk: String(tick + 1), timestamp: String(tick * 20), payload: Buffer.from(pcmToMulaw(samples)).toString('base64') },
      }),
      mark: (name) => ({ event: 'mark', streamSid, mark: { name } }),
      dtmf: (digit) => ({ event: 'dtmf', streamSid, dtmf: { track: 'inbound_track', digit } }),
      stop: () => ({ event: 'stop', streamSid, stop: { accountSid, callSid } }),
      sequenced: (message, n) => ({ ...message, sequenceNumber: String(n) }),
      read: (message) => readTwilioMessage(message, streamSid),
    };
    super(protocol, networkDelayMs);
    this.callSid = callSid;
    this.streamSid = streamSid;
    this.parameters = parameters;
  }

  /** The `<Parameter>`s of the TwiML's <Stream>, sent in the start message. */
  private readonly parameters: Record<string, string>;

  /** @internal Opens the stream the TwiML named, with its `<Parameter>`s. */
  async open(url: string, parameters: Record<string, string>, signature: string | undefined): Promise<void> {
    Object.assign(this.parameters, parameters);
    await this.connect(url, signature === undefined ? {} : { 'x-twilio-signature': signature });
  }
}

/** What Twilio makes of a message of ours (docs/carriers.md), or why it refuses it. */
function readTwilioMessage(message: Record<string, unknown>, streamSid: string): FakeStreamRead {
  if (message.streamSid !== streamSid) return `a ${String(message.event)} for another streamSid`;
  switch (message.event) {
    case 'media': {
      const payload = (message.media as { payload?: unknown } | undefined)?.payload;
      if (!isBase64Payload(payload)) return 'a media event without a valid base64 payload';
      return { kind: 'media', samples: mulawToPcm(new Uint8Array(Buffer.from(payload, 'base64'))) };
    }
    default:
      return readMarkOrClear(message);
  }
}
