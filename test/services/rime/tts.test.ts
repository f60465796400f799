// RimeTTSService against the fake Rime WebSocket over real sockets, in a pipeline task: what it sends (as Rime
// documents it), how sentences and word timings map onto Rime's one-context-at-a-time protocol, and what the fake
// refuses. The behaviour every vendor shares is in test/services/conformance.
import { describe, expect, it } from 'vitest';
import { concatInt16 } from '../../../src/audio/index.js';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { RimeTTSService, type RimeTTSServiceOptions } from '../../../src/services/rime/index.js';
import { fakeRimeSpeech, startFakeRime } from '../../../src/testing/fakes/rime.js';
import { audioOf, runPipeline } from '../../support/pipeline.js';
import { handshakeStatus, records, sayResponse, useFake } from '../../support/vendor-tts.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'rime-key-SECRET-0123456789';
const BAD_KEY = 'rime-bad-key-9876543210';

const fakeRime = useFake(() => startFakeRime({ rejectKey: BAD_KEY }));

const service = (options: Partial<RimeTTSServiceOptions> = {}): RimeTTSService =>
  new RimeTTSService({ apiKey: KEY, speaker: 'astra', baseUrl: fakeRime().baseUrl, ...options });

describe('RimeTTSService', () => {
  it('options are query parameters, the key a Bearer header; each sentence has its own contextId and a flush; words are offset per sentence', async () => {
    const fake = fakeRime();
    const before = fake.messages().length;
    const connectionsBefore = fake.connections.length;
    const { collector, errors } = await sayResponse(service({ language: 'hin', model: 'arcana', sampleRate: 8000 }), ['Hello there. How can', ' I help you?']);
    expect(errors).toEqual([]);

    const sentences = ['Hello there.', 'How can I help you?'];
    expect(audioOf(collector.downstream)).toEqual(concatInt16(sentences.map((s) => fakeRimeSpeech(s, { sampleRate: 8000, speaker: 'astra' }))));
    // The second sentence's words start after the first sentence's audio (12 characters at 60 ms).
    const words = collector.ofType('tts-text').map((f) => [f.text, f.offsetMs]);
    expect(words).toEqual([['Hello', 0], ['there.', 360], ['How', 720], ['can', 960], ['I', 1200], ['help', 1320], ['you?', 1620]]);

    const connection = fake.connections[connectionsBefore]!;
    expect(connection.path).toBe('/ws3');
    expect(connection.query).toEqual({ speaker: 'astra', modelId: 'arcana', audioFormat: 'pcm', samplingRate: '8000', lang: 'hin' });
    expect(connection.headers.authorization).toBe('[redacted]');
    expect(connection.auth).toEqual({ present: true, valid: true });
    const sent = records(fakeRime().messages().slice(before));
    expect(sent.slice(0, 4).map((m) => m.text ?? m.operation)).toEqual(['Hello there. ', 'flush', 'How can I help you? ', 'flush']);
    const ids = sent.filter((m) => typeof m.contextId === 'string').map((m) => String(m.contextId));
    expect(new Set(ids).size).toBe(2);
    // The pipeline's end says `eos` before the socket is closed.
    await waitUntil(() => connection.close !== undefined, 5000);
    expect(connection.received.at(-1)?.json).toEqual({ operation: 'eos' });
  });

  it('an interruption sends `clear`; late audio of the cut sentence is dropped and the next utterance is said', async () => {
    const tts = service();
    const { collector, errors, send, task, stop } = runPipeline(tts);
    const long = 'This sentence goes on long enough to be cut off by the caller speaking over it.';
    send(makeFrame('speak', { text: long }));
    const first = await collector.waitFor((f) => f.type === 'tts-audio');
    const firstContext = first.type === 'tts-audio' ? first.contextId : undefined;
    const before = fakeRime().messages().length;
    task.interrupt();
    await collector.waitFor((f) => f.type === 'interruption');
    send(makeFrame('speak', { text: 'Sure.' }));
    await waitUntil(() => collector.ofType('tts-audio').some((f) => f.contextId !== firstContext), 5000);
    await stop();
    expect(records(fakeRime().messages().slice(before)).some((m) => m.operation === 'clear')).toBe(true);
    const cut = collector.downstream.findIndex((f) => f.type === 'interruption');
    expect(collector.downstream.slice(cut).filter((f) => f.type === 'tts-audio' && f.contextId === firstContext)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('an in-band error fails the sentence as a `server` error naming Rime; the next sentence is said', async () => {
    const tts = service();
    const { collector, errors, send, stop } = runPipeline(tts);
    fakeRime().failSynthesis({ error: 'model overloaded' });
    send(makeFrame('speak', { text: 'First.' }));
    await waitUntil(() => errors.length === 1, 5000);
    send(makeFrame('speak', { text: 'Second.' }));
    await waitUntil(() => collector.ofType('tts-audio').length > 0 && collector.downstream.at(-1)?.type === 'tts-stopped', 5000);
    await stop();
    const error = errors[0]!.error;
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('server');
    expect((error as ServiceError).message).toContain('model overloaded');
  });

  it('refuses bad options before any socket: no speaker, a rate it does not ask for, no key', () => {
    expect(() => service({ speaker: ' ' })).toThrow(/speaker is required/);
    expect(() => service({ sampleRate: 11025 as 8000 })).toThrow(/8000, 16000/);
    expect(() => service({ apiKey: '' })).toThrow(/RIME_API_KEY/);
  });

  it('the fake refuses what Rime refuses: no speaker, an unknown model or language, a bad key (401)', async () => {
    const refused = (query: string, headers: Record<string, string> = { Authorization: `Bearer ${KEY}` }): Promise<number> =>
      handshakeStatus(`${fakeRime().baseUrl}/ws3?${query}`, headers);
    expect(await refused('modelId=coda&audioFormat=pcm')).toBe(400);
    expect(await refused('speaker=astra&modelId=sonic&audioFormat=pcm')).toBe(400);
    expect(await refused('speaker=astra&audioFormat=pcm&lang=tam')).toBe(400);
    expect(await refused('speaker=astra&audioFormat=pcm', { Authorization: `Bearer ${BAD_KEY}` })).toBe(401);
    expect(await refused('speaker=astra&audioFormat=pcm', {})).toBe(401);
    expect(await refused('speaker=astra&audioFormat=pcm&samplingRate=16000&lang=eng')).toBe(101);
  });
});
