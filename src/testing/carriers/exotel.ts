// A faithful fake of Exotel's Voicebot applet for testing agents offline (docs/carriers.md, "Exotel"): it places a
// call the way the applet does (a WebSocket to the applet's URL, the URL's credentials sent as a Basic
// Authorization header and its other query parameters as custom_parameters, `connected` then `start`), sends the
// caller's audio as Exotel does (a `media` event of base64 16-bit PCM every 100 ms, silence when the caller says
// nothing), plays what the agent sends in real time, echoes each mark once the audio before it has played (plus a
// network delay), empties its buffer at `clear`, and sends keys as `dtmf` events. When the agent closes the stream
// the call flow goes on to its next applet: a Connect applet transfers the call, none ends it. What our side sends
// is checked: not JSON, an unknown event, a bad payload or a foreign stream_sid ends the call (1008); chunks
// Exotel advises against (under 3200 bytes, not a multiple of 320 bytes) are recorded in `chunkWarnings`.
import { randomBytes } from 'node:crypto';
import { FakeStreamCall, isBase64Payload, readMarkOrClear, type FakeStreamCallEndReason, type FakeStreamProtocol, type FakeStreamRead } from './fake-stream-call.js';

export type FakeExotelCallEndReason = FakeStreamCallEndReason;

/** What the call flow does after the Voicebot applet: connect the caller to a number, or end the call. */
export type FakeExotelNextApplet = { readonly connect: string } | 'hangup';

export interface FakeExotelOptions {
  /** One-way network delay between the agent and Exotel (what we send, and marks' echoes). Default 40 ms. */
  networkDelayMs?: number;
}

export interface PlaceExotelCallOptions {
  /** The URL in the Voicebot applet (`wss://user:password@host/path?sample-rate=8000&key=value`). */
  streamUrl: string;
  from?: string;
  to?: string;
  /** The applet after the Voicebot in the call flow. Default 'hangup'. */
  next?: FakeExotelNextApplet;
}

export class FakeExotelCall extends FakeStreamCall {
  readonly callSid = randomBytes(16).toString('hex');
  readonly streamSid = randomBytes(16).toString('hex');
  /** Our chunks Exotel advises against (they play, with gaps): a description of each. */
  readonly chunkWarnings: string[] = [];

  constructor(
    readonly from: string,
    readonly to: string,
    readonly accountSid: string,
    readonly sampleRate: number,
    customParameters: Readonly<Record<string, string>>,
    private readonly next: FakeExotelNextApplet,
    networkDelayMs: number,
  ) {
    const ids: { stream: string; call: string } = { stream: '', call: '' };
    const protocol: FakeStreamProtocol = {
      sampleRate,
      packetMs: 100,
      opening: () => [
        { event: 'connected' },
        {
          event: 'start',
          stream_sid: ids.stream,
          start: {
            stream_sid: ids.stream,
            call_sid: ids.call,
            account_sid: accountSid,
            from,
            to,
            custom_parameters: customParameters,
            media_format: { encoding: 'audio/x-raw', sample_rate: String(sampleRate), bit_rate: '16' },
          },
        },
      ],
      media: (samples, tick) => ({
        event: 'media',
        stream_sid: ids.stream,
        media: { chunk: String(tick + 1), timestamp: String((tick + 1) * 100), payload: pcmToBase64(samples) },
      }),
      mark: (name) => ({ event: 'mark', stream_sid: ids.stream, mark: { name } }),
      dtmf: (digit) => ({ event: 'dtmf', stream_sid: ids.stream, dtmf: { digit, duration: '100' } }),
      stop: () => ({ event: 'stop', stream_sid: ids.stream, stop: { call_sid: ids.call, account_sid: accountSid, reason: 'callended' } }),
      sequenced: (message, n) => ({ ...message, sequence_number: String(n) }),
      read: (message) => this.read(message),
    };
    super(protocol, networkDelayMs);
    ids.stream = this.streamSid;
    ids.call = this.callSid;
  }

  /** The agent closed the stream: the call flow goes on to the next applet. */
  protected override onStreamClosed(): void {
    if (this.next === 'hangup') this.end('hangup');
    else this.end('transferred', this.next.connect);
  }

  private read(message: Record<string, unknown>): FakeStreamRead {
    if (message.stream_sid !== this.streamSid) return `a ${String(message.event)} for another stream_sid`;
    switch (message.event) {
      case 'media': {
        const payload = (message.media as { payload?: unknown } | undefined)?.payload;
        if (!isBase64Payload(payload)) return 'a media event without a valid base64 payload';
        const bytes = Buffer.from(payload, 'base64');
        if (bytes.length % 2 !== 0) return 'a media payload of an odd number of bytes';
        if (bytes.length < 3200 || bytes.length % 320 !== 0) this.chunkWarnings.push(`a chunk of ${bytes.length} bytes`);
        const samples = new Int16Array(bytes.length / 2);
        for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
        return { kind: 'media', samples };
      }
      default:
        return readMarkOrClear(message);
    }
  }
}

export interface FakeExotel {
  readonly accountSid: string;
  readonly calls: readonly FakeExotelCall[];
  /** Places an inbound call that reaches a Voicebot applet with `streamUrl`. */
  placeCall(options: PlaceExotelCallOptions): Promise<FakeExotelCall>;
  close(): Promise<void>;
}

/** Starts the fake Exotel (nothing listens: Exotel only calls out to the agent's stream). */
export function startFakeExotel(options: FakeExotelOptions = {}): Promise<FakeExotel> {
  const accountSid = `fake${randomBytes(6).toString('hex')}`;
  const networkDelayMs = options.networkDelayMs ?? 40;
  const calls: FakeExotelCall[] = [];
  return Promise.resolve({
    accountSid,
    calls,
    async placeCall(place) {
      const url = new URL(place.streamUrl);
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`the applet needs a ws(s):// URL, not ${url.protocol}`);
      const headers: Record<string, string> = {};
      if (url.username !== '') {
        // Exotel sends the URL's credentials as a header, not in the URL.
        const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
        headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
        url.username = '';
        url.password = '';
      }
      const sampleRate = Number(url.searchParams.get('sample-rate') ?? 8000);
      const customParameters: Record<string, string> = {};
      for (const [key, value] of url.searchParams) if (key !== 'sample-rate') customParameters[key] = value;
      if (Object.keys(customParameters).length > 3) throw new Error('the applet takes up to 3 custom parameters');
      const call = new FakeExotelCall(place.from ?? '+919800000001', place.to ?? '+918000000002', accountSid, sampleRate, customParameters, place.next ?? 'hangup', networkDelayMs);
      calls.push(call);
      await call.connect(url.toString(), headers);
      return call;
    },
    close() {
      for (const call of calls) call.end('hangup');
      return Promise.resolve();
    },
  });
}

function pcmToBase64(samples: Int16Array): string {
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, i * 2);
  return bytes.toString('base64');
}
