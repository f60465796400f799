// Property tests of the parsers that face the network or a file: whatever arrives, they answer with a value or a
// clear error, never an exception escaping, a hang, or an answer that depends on how the bytes were split.
// (The SSE decoder's chunking property and the JSON Schema validator's are in their own test files.)
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_METADATA_CHARS, parseInvite, parseMetadata } from '../../src/agent/invite.js';
import {
  alawToLinear,
  alawToPcm,
  bytesToInt16,
  int16ToBytes,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
  mulawToPcm,
  pcmToAlaw,
  pcmToMulaw,
  readWav,
  writeWav,
} from '../../src/audio/index.js';
import { WavFormatError } from '../../src/audio/wav.js';
import { parseToolArguments } from '../../src/llm/adapters/parse.js';
import { FunctionSchema, ToolRegistry } from '../../src/llm/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { PiopiyStreamSerializer, PiopiyStreamTransport } from '../../src/transports/websocket/piopiy-stream.js';

const RUNS = { numRuns: 300 };

describe('join_room invites', () => {
  const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '');
  const validInvite = fc.record({
    room_name: text,
    token: text,
    url: fc.constantFrom('wss://media.example', 'https://media.example/x', 'piopiy-sim://127.0.0.1:1/media'),
    call_id: fc.option(text, { nil: undefined }),
    from_number: fc.option(fc.stringMatching(/^\d{6,14}$/), { nil: undefined }),
    to_number: fc.option(fc.stringMatching(/^\d{6,14}$/), { nil: undefined }),
  });

  it('any JSON value or structure: a parsed invite or a named field with its problem, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.jsonValue(), validInvite.map((v) => ({ ...v, metadata: 'x' }))), (payload) => {
        const result = parseInvite(payload);
        if (!result.ok) {
          expect(['payload', 'room_name', 'token', 'url']).toContain(result.field);
          expect(result.problem.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a valid invite comes back field for field; a missing or mistyped required field is named', () => {
    fc.assert(
      fc.property(validInvite, fc.constantFrom('room_name', 'token', 'url'), fc.anything(), (invite, broken, junk) => {
        const parsed = parseInvite(invite);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.invite).toMatchObject({ roomName: invite.room_name, token: invite.token, url: invite.url });
        expect(parsed.invite.callId).toBe(invite.call_id ?? invite.room_name);
        expect(parsed.invite.fromNumber).toBe(invite.from_number);
        if (typeof junk === 'string' && junk.trim() !== '') return; // a string may be a valid value
        const bad = parseInvite({ ...invite, [broken]: junk });
        expect(bad).toMatchObject({ ok: false, field: broken });
      }),
      RUNS,
    );
  });

  // Backslashes are left out: the platform's `\}` unescaping applies to the raw text, before JSON parsing.
  const metadataValue = fc.jsonValue().filter((v) => !JSON.stringify(v).includes('\\'));

  it('metadata: JSON text and double-encoded JSON text give back the value; any string never throws', () => {
    fc.assert(
      fc.property(metadataValue, fc.string({ maxLength: 200 }), (value, raw) => {
        const sent = JSON.parse(JSON.stringify(value)) as unknown; // what JSON can carry (-0 arrives as 0)
        // A top-level string is ambiguous by design: "\"42\"" may be double-encoded 42, and is read as such.
        if (typeof value !== 'string') {
          expect(parseMetadata(JSON.stringify(value))).toEqual(sent);
          expect(parseMetadata(JSON.stringify(JSON.stringify(value)))).toEqual(sent);
        }
        expect(() => parseMetadata(raw)).not.toThrow();
      }),
      RUNS,
    );
    expect(parseMetadata('x'.repeat(MAX_METADATA_CHARS + 1))).toBeNull();
  });
});

/** A stream transport on a stand-in socket; the keys and messages it reports are collected. */
function streamTransport(): { socket: EventEmitter; digits: string[]; messages: unknown[] } {
  const socket = Object.assign(new EventEmitter(), { readyState: WebSocket.OPEN, send: () => undefined, close: () => undefined });
  const transport = new PiopiyStreamTransport(socket as unknown as WebSocket, { sampleRate: 8000, logger: silentLogger });
  const digits: string[] = [];
  const messages: unknown[] = [];
  transport.events.on('dtmf', (digit) => digits.push(digit));
  transport.events.on('message', (message) => messages.push(message));
  return { socket, digits, messages };
}

/** `bytes` cut at the given points (sorted, deduplicated, within range). */
function split(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(Buffer.from(bytes.subarray(start, point)));
    start = point;
  }
  return pieces;
}

describe('Piopiy stream transport frames', () => {
  it('binary audio cut anywhere, odd byte counts included, decodes to the same samples as in one piece', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
        const whole = bytes.subarray(0, bytes.length - (bytes.length % 2));
        const expected = [...bytesToInt16(Uint8Array.from(whole))];
        // The serializer decodes (the transport then re-times the audio through its jitter buffer).
        const serializer = new PiopiyStreamSerializer(8000, silentLogger);
        const samples: number[] = [];
        for (const piece of split(bytes, cuts)) {
          for (const event of serializer.decode(piece, true)) if (event.type === 'audio') samples.push(...event.samples);
        }
        expect(samples).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('any text frame: JSON becomes a message (or a DTMF digit when it is one), anything else is dropped; never a throw', () => {
    const dtmf = fc.record({ event: fc.constant('dtmf'), digit: fc.oneof(fc.constantFrom('0', '5', '9', '*', '#', 'A'), fc.string()) });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), dtmf.map((d) => JSON.stringify(d))), (text) => {
        const { socket, digits, messages } = streamTransport();
        expect(() => socket.emit('message', Buffer.from(text), false)).not.toThrow();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          expect(digits.length + messages.length).toBe(0);
          return;
        }
        expect(digits.length + messages.length).toBe(1);
        for (const digit of digits) expect(digit).toMatch(/^[0-9*#A-D]$/);
        if (messages.length === 1) expect(messages[0]).toEqual(parsed);
      }),
      RUNS,
    );
  });
});

describe('WAV reader', () => {
  const audio = fc
    .record({ channels: fc.integer({ min: 1, max: 3 }), sampleRate: fc.constantFrom(8000, 16000, 44100), frames: fc.nat({ max: 200 }) })
    .chain(({ channels, sampleRate, frames }) =>
      fc.record({
        channels: fc.constant(channels),
        sampleRate: fc.constant(sampleRate),
        samples: fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: frames * channels, maxLength: frames * channels }).map((a) => Int16Array.from(a)),
      }),
    );

  /** readWav's answer: the audio, or its error, which must be a WavFormatError with a message. */
  function read(bytes: Uint8Array): ReturnType<typeof readWav> | WavFormatError {
    try {
      const result = readWav(bytes);
      expect(result.channels).toBeGreaterThan(0);
      expect(result.sampleRate).toBeGreaterThan(0);
      expect(result.samples.length % result.channels).toBe(0);
      return result;
    } catch (error) {
      expect(error).toBeInstanceOf(WavFormatError);
      expect((error as Error).message.length).toBeGreaterThan(0);
      return error as WavFormatError;
    }
  }

  it('arbitrary bytes: valid audio or a WavFormatError, never another exception', () => {
    const riffPrefixed = fc.uint8Array({ maxLength: 300 }).map((rest) => Uint8Array.from([...Buffer.from('RIFF\0\0\0\0WAVE'), ...rest]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), riffPrefixed), (bytes) => void read(bytes)), { numRuns: 1000 });
  });

  it('written files read back exactly; corrupted or truncated ones give audio or a WavFormatError', () => {
    fc.assert(
      fc.property(audio, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), (wav, flips, cut) => {
        const file = writeWav(wav);
        expect(readWav(file)).toEqual(wav);
        const corrupted = Uint8Array.from(file);
        for (const [at, value] of flips) corrupted[at % corrupted.length] = value;
        read(corrupted);
        read(corrupted.subarray(0, cut % (corrupted.length + 1)));
      }),
      RUNS,
    );
  });
});

describe('G.711 and PCM helpers', () => {
  const samples = fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 300 }).map((a) => Int16Array.from(a));

  it('μ-law and A-law round trips stay within the quantisation step, array and scalar forms agree', () => {
    fc.assert(
      fc.property(samples, (pcm) => {
        const mu = pcmToMulaw(pcm);
        const a = pcmToAlaw(pcm);
        const muBack = mulawToPcm(mu);
        const aBack = alawToPcm(a);
        for (let i = 0; i < pcm.length; i++) {
          const s = pcm[i]!;
          expect(mu[i]).toBe(linearToMulaw(s));
          expect(a[i]).toBe(linearToAlaw(s));
          expect(muBack[i]).toBe(mulawToLinear(mu[i]!));
          expect(aBack[i]).toBe(alawToLinear(a[i]!));
          // Logarithmic companding: the error grows with the magnitude, up to about 1/16 of it (plus the floor).
          expect(Math.abs(muBack[i]! - s)).toBeLessThanOrEqual(Math.abs(s) / 16 + 140);
          expect(Math.abs(aBack[i]! - s)).toBeLessThanOrEqual(Math.abs(s) / 16 + 140);
        }
      }),
      RUNS,
    );
  });

  it('any code decodes to an int16 that encodes back to a code decoding to the same value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (codes) => {
        for (const [toPcm, toCodes] of [
          [mulawToPcm, pcmToMulaw],
          [alawToPcm, pcmToAlaw],
        ] as const) {
          const pcm = toPcm(codes);
          expect(pcm.length).toBe(codes.length);
          expect(toPcm(toCodes(pcm))).toEqual(pcm);
        }
      }),
      RUNS,
    );
  });

  it('PCM16 bytes: any even-length slice at any offset round-trips; an odd length is a RangeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 7 }), (bytes, offset) => {
        const backing = new Uint8Array(bytes.length + offset);
        backing.set(bytes, offset);
        const view = backing.subarray(offset);
        if (view.length % 2 !== 0) {
          expect(() => bytesToInt16(view)).toThrow(RangeError);
          return;
        }
        const decoded = bytesToInt16(view);
        expect(Buffer.from(int16ToBytes(decoded))).toEqual(Buffer.from(view));
      }),
      RUNS,
    );
  });
});

describe('LLM tool arguments and names', () => {
  const schema = new FunctionSchema({
    name: 'book_table',
    description: 'Books a table.',
    properties: { guests: { type: 'integer', minimum: 1, maximum: 20 }, name: { type: 'string', maxLength: 40 } },
    required: ['guests'],
  });

  function registry(calls: unknown[]): ToolRegistry {
    const tools = new ToolRegistry();
    tools.register(schema, (args) => {
      calls.push(args);
      return 'booked';
    });
    return tools;
  }

  const context = { call: undefined, interruption: new AbortController().signal, say: () => undefined };

  it('any argument text: the handler runs only on schema-valid arguments; otherwise an error result, never a throw', async () => {
    const argumentText = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.json({ maxDepth: 3 }),
      fc.record({ guests: fc.oneof(fc.integer({ min: -5, max: 30 }), fc.string(), fc.constant(null)), name: fc.string({ maxLength: 60 }) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(argumentText, async (text) => {
        const calls: unknown[] = [];
        const outcome = await registry(calls).execute({ id: 'call_1', name: 'book_table', arguments: text }, context);
        const valid = schema.validate(text.trim() === '' ? {} : safeParse(text));
        expect(outcome.error === undefined).toBe(valid.ok);
        expect(calls.length).toBe(valid.ok ? 1 : 0);
        expect(typeof outcome.content).toBe('string');
      }),
      RUNS,
    );
  });

  it('any tool name other than a registered one: an error naming it, quoted and cut, nothing run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }).filter((n) => n !== 'book_table'), async (name) => {
        const calls: unknown[] = [];
        const outcome = await registry(calls).execute({ id: 'call_1', name, arguments: '{"guests": 2}' }, context);
        expect(calls).toEqual([]);
        expect(outcome.error).toMatch(/^unknown tool ".*"; the available tools are: book_table$/s);
        expect(outcome.error!.length).toBeLessThan(64 * 6 + 80); // the name is cut at 64 characters (JSON-escaped)
      }),
      RUNS,
    );
  });

  it('provider adapters: any argument text becomes an object', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const args = parseToolArguments(text);
        expect(typeof args === 'object' && args !== null && !Array.isArray(args)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return Symbol('not JSON');
  }
}
