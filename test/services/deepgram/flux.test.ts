import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation, UserTurnAggregator } from '../../../src/conversation/index.js';
import { makeFrame, type Frame } from '../../../src/frames/index.js';
import { LLMContext } from '../../../src/llm/context.js';
import { Pipeline } from '../../../src/pipeline/index.js';
import { deepgramFluxError, DeepgramFluxSTTService } from '../../../src/services/deepgram/index.js';
import { startFakeDeepgramFlux, type FakeDeepgramFlux } from '../../../src/testing/fakes/deepgram-flux.js';
import { runOnVirtualClock } from '../conformance/run.js';
import { finals, send, tick, tone } from '../streaming-stt-kit.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'dg-flux-test-key-0123456789';
const RATE = 16000;

const silence = (ms: number): Int16Array => new Int16Array((RATE * ms) / 1000);

const completes = (frames: readonly Frame[]) => frames.filter((f) => f.type === 'transcription-complete');

let fake: FakeDeepgramFlux;
beforeAll(async () => {
  fake = await startFakeDeepgramFlux({ requireKey: KEY });
});
afterAll(() => fake.close());

describe('DeepgramFluxSTTService', () => {
  it("endOfTurn 'flux': a VAD stop waits for Flux's EndOfTurn, speech resuming before it continues the turn, and EndOfTurn completes it as one final", async () => {
    fake.scriptTranscripts('I want to check my order');
    const stt = new DeepgramFluxSTTService({ apiKey: KEY, baseUrl: fake.url, eotThreshold: 0.8, eotTimeoutMs: 3000, keyterms: ['piopiy'] });
    expect(stt.transcriptionCompleteTimeoutMs).toBe(4000);
    // A long model end-of-turn pause (the fake's) so the VAD's short pause does not end Flux's turn.
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, silence(300));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(700));
    await send(run, silence(100));
    run.send(makeFrame('user-stopped-speaking'));
    await send(run, silence(100));
    // The caller goes on before Flux ends the turn: no completion yet, no final.
    await tick();
    expect(completes(run.collector.downstream)).toEqual([]);
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(600));
    await send(run, silence(400));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    expect(session.query).toMatchObject({ model: 'flux-general-en', encoding: 'linear16', sample_rate: String(RATE), eot_threshold: '0.8', eot_timeout_ms: '3000' });
    expect(session.lists.keyterm).toEqual(['piopiy']);
    // No ForceEndTurn: Flux ended the turn itself; CloseStream at the end.
    expect(session.controls).toEqual(['CloseStream']);
    const [final, more] = finals(run.collector.downstream);
    expect(more).toBeUndefined();
    expect(final?.text).toBe('I want to check my order');
    expect(final?.language).toBe('en');
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final)).toBe(true);
    expect(session.sent.filter((m) => m.event === 'EndOfTurn')).toHaveLength(1);
    expect(run.errors).toEqual([]);
  });

  it("with the user-turn aggregator: a VAD pause Flux does not take for the end is no turn, past the aggregator's default wait; EndOfTurn commits one turn", async () => {
    fake.scriptTranscripts('My number is four five six');
    const stt = new DeepgramFluxSTTService({ apiKey: KEY, baseUrl: fake.url });
    const turns: string[] = [];
    const aggregator = new UserTurnAggregator({
      conversation: new Conversation({ context: new LLMContext(), onUserTurn: (text) => turns.push(text) }),
      waitForTranscriptionComplete: stt.reportsTranscriptionComplete,
      finalTranscriptTimeoutMs: stt.transcriptionCompleteTimeoutMs!,
    });
    const run = runOnVirtualClock(new Pipeline([stt, aggregator]), { audioInSampleRate: RATE });
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(600));
    await send(run, silence(100));
    run.send(makeFrame('user-stopped-speaking'));
    // More than the aggregator's default 600 ms of the call's time while the caller pauses: no turn yet.
    await run.clock.advance(1000);
    await send(run, silence(100));
    expect(turns).toEqual([]);
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(600));
    await send(run, silence(400));
    run.send(makeFrame('user-stopped-speaking'));
    await waitUntil(() => turns.length > 0, 3000);
    await run.stop();
    expect(turns).toEqual(['My number is four five six']);
  });

  it("endOfTurn 'vad': the VAD stop sends ForceEndTurn and Flux's manual EndOfTurn completes the turn", async () => {
    fake.scriptTranscripts('Transfer me to a human');
    // eot_threshold 1.0: Flux never ends a turn by itself, as its "bring your own turn detection" recipe says.
    const stt = new DeepgramFluxSTTService({ apiKey: KEY, baseUrl: fake.url, endOfTurn: 'vad', eotThreshold: 1 });
    expect(stt.transcriptionCompleteTimeoutMs).toBeUndefined();
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, silence(200));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(900));
    await send(run, silence(200));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    expect(session.controls[0]).toBe('ForceEndTurn');
    expect(session.sent.find((m) => m.event === 'EndOfTurn')).toMatchObject({ trigger: 'manual', transcript: 'Transfer me to a human' });
    expect(finals(run.collector.downstream).map((f) => f.text)).toEqual(['Transfer me to a human']);
    expect(run.collector.downstream.some((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'ttfb'))).toBe(true);
  });

  it("endOfTurn 'vad' across a drop: the stop made while the line is down reaches the new socket, whose replayed turn gets its ForceEndTurn", async () => {
    fake.scriptTranscripts('Please call me back tomorrow');
    const stt = new DeepgramFluxSTTService({ apiKey: KEY, baseUrl: fake.url, endOfTurn: 'vad', eotThreshold: 1, reconnect: { initialDelayMs: 100 } });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(500));
    const before = fake.sessions.length;
    fake.dropConnections();
    await waitUntil(() => fake.sessions.at(-1)?.closed !== undefined, 2000);
    await send(run, tone(700));
    await send(run, silence(200));
    run.send(makeFrame('user-stopped-speaking'));
    for (let step = 0; step < 100 && fake.sessions.length === before; step++) {
      await run.clock.advance(100);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    expect(fake.sessions.at(-1)!.controls[0]).toBe('ForceEndTurn');
    expect(finals(run.collector.downstream).map((f) => f.text)).toEqual(['Please call me back tomorrow']);
    expect(run.errors).toEqual([]);
  });

  it('a VAD stop on noise Flux never took for speech is complete once an Update outside a turn covers it', async () => {
    const stt = new DeepgramFluxSTTService({ apiKey: KEY, baseUrl: fake.url });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, silence(200));
    run.send(makeFrame('user-started-speaking'));
    await send(run, silence(300));
    run.send(makeFrame('user-stopped-speaking'));
    await send(run, silence(400));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    expect(finals(run.collector.downstream)).toEqual([]);
  });

  it('eager mode: EagerEndOfTurn is an interim, EndOfTurn the one final; multilingual hints go on the URL', async () => {
    fake.scriptTranscripts('Namaste mera order');
    const stt = new DeepgramFluxSTTService({ apiKey: KEY, baseUrl: fake.url, model: 'flux-general-multi', languageHints: ['hi'], eagerEotThreshold: 0.4 });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(900));
    await send(run, silence(400));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    expect(session.lists.language_hint).toEqual(['hi']);
    const events = session.sent.filter((m) => m.type === 'TurnInfo' && m.event !== 'Update').map((m) => m.event);
    expect(events).toEqual(['StartOfTurn', 'EagerEndOfTurn', 'EndOfTurn']);
    const [final] = finals(run.collector.downstream);
    expect(final?.text).toBe('Namaste mera order');
    expect(final?.language).toBe('hi');
  });

  it('a fatal in-band Error is what the close means: auth stops, an internal error is retried', async () => {
    const stt = new DeepgramFluxSTTService({ apiKey: KEY, baseUrl: fake.url, reconnect: { initialDelayMs: 100 } });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, silence(100));
    const before = fake.sessions.length;
    fake.sendFatalError('INTERNAL_SERVER_ERROR', 'boom');
    // The reconnect waits on the call's clock: move it until the new socket is there.
    for (let step = 0; step < 100 && fake.sessions.length === before; step++) {
      await run.clock.advance(100);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(fake.sessions.length).toBe(before + 1);
    await waitUntil(() => fake.sessions.at(-1)?.sent.length !== 0, 2000);
    expect(run.errors).toEqual([]);
    fake.sendFatalError('INVALID_AUTH', `key ${KEY} expired`);
    await waitUntil(() => run.errors.length > 0, 2000);
    await run.cancel();
    const error = run.errors[0]!.error as Error & { code?: string };
    expect(error.code).toBe('auth');
    expect(error.message).not.toContain(KEY);
  });

  it('checks its options and reads Flux error codes', () => {
    expect(() => new DeepgramFluxSTTService({ apiKey: KEY, eotThreshold: 0.2 })).toThrow(/eotThreshold/);
    expect(() => new DeepgramFluxSTTService({ apiKey: KEY, eagerEotThreshold: 0.8, eotThreshold: 0.6 })).toThrow(/must not exceed/);
    expect(() => new DeepgramFluxSTTService({ apiKey: KEY, eotTimeoutMs: 100 })).toThrow(/eotTimeoutMs/);
    expect(new DeepgramFluxSTTService({ apiKey: KEY, languageHints: ['hi'] }).url).not.toContain('language_hint');
    const cases: [string, string][] = [
      ['INVALID_AUTH', 'auth'],
      ['INTERNAL_SERVER_ERROR', 'server'],
      ['TOO_MANY_REQUESTS', 'rate-limited'],
      ['UNSUPPORTED_ENCODING', 'bad-request'],
      ['SOMETHING_NEW', 'server'],
    ];
    for (const [code, kind] of cases) expect(deepgramFluxError(code, 'x', [KEY]).code).toBe(kind);
  });
});
