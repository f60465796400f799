import { afterEach, describe, expect, it, vi } from 'vitest';
import { chunkAudio } from '../../../../src/audio/index.js';
import { inputAudioFrame, makeFrame, type ErrorFrame } from '../../../../src/frames/index.js';
import { silentLogger } from '../../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../../src/pipeline/index.js';
import { ServiceError } from '../../../../src/services/base/index.js';
import {
  PocketsphinxDecoder,
  PocketsphinxSTTService,
  type PocketsphinxSTTServiceOptions,
} from '../../../../src/services/local/pocketsphinx/index.js';
import { FrameCollector } from '../../../../src/testing/frame-collector.js';
import { concatAudio, silence, synthesizeSpeech, type SpeechSampleRate } from '../../../../src/testing/speech.js';
import { hasPocketsphinx, pocketsphinxNeeds as needs } from '../../../support/pocketsphinx.js';

const HUMAN = 'I want to talk to a human please';
const BALANCE = 'What is my account balance';
const GRAMMAR = `#JSGF V1.0;
grammar requests;
public <request> = i want to talk to a human please | what is my account balance | goodbye;
`;

const services: PocketsphinxSTTService[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(services.splice(0).map((s) => s.cleanup()));
});

function service(options: PocketsphinxSTTServiceOptions = {}): PocketsphinxSTTService {
  const stt = new PocketsphinxSTTService(options);
  services.push(stt);
  return stt;
}

/**
 * Sends one user turn as a transport and VAD would: caller audio in 20 ms frames at `rate`, with
 * user-started/stopped-speaking around the speech. VAD frames are system frames, which overtake queued audio, so
 * each is sent only once the audio before it has gone through (in a call, audio arrives in real time).
 */
async function sendTurn(
  task: PipelineTask,
  collector: FrameCollector,
  speech: Int16Array,
  rate: SpeechSampleRate,
): Promise<void> {
  const sendAudio = async (audio: Int16Array): Promise<void> => {
    const target = collector.ofType('input-audio').length + chunkAudio(audio, rate).length;
    for (const chunk of chunkAudio(audio, rate)) void task.queueFrame(inputAudioFrame(chunk, rate));
    await collector.waitFor(() => collector.ofType('input-audio').length >= target);
  };
  await sendAudio(silence(200, rate));
  void task.queueFrame(makeFrame('user-started-speaking'));
  await sendAudio(concatAudio(speech, silence(300, rate)));
  void task.queueFrame(makeFrame('user-stopped-speaking'));
}

/** One user turn through a pipeline of the service and a collector; the transcripts and errors that came out. */
async function hearTurn(
  stt: PocketsphinxSTTService,
  speech: Int16Array,
  rate: SpeechSampleRate,
): Promise<{ transcripts: string[]; errors: ErrorFrame[] }> {
  const collector = new FrameCollector();
  const errors: ErrorFrame[] = [];
  const task = new PipelineTask(new Pipeline([stt, collector]), {
    logger: silentLogger,
    audioInSampleRate: rate,
    onError: (frame) => errors.push(frame),
  });
  const running = task.run();
  await sendTurn(task, collector, speech, rate);
  // The end frame waits for the decode of the turn, so the pipeline ends once the turn has been transcribed.
  task.stopWhenDone();
  await running;
  return { transcripts: collector.ofType('transcription').map((f) => f.text), errors };
}

/** Largest gap between timer ticks (ms) while `work` runs: how long the event loop was blocked. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return longest;
}

describe('PocketsphinxSTTService', () => {
  it('checks the grammar before anything is loaded', () => {
    expect(() => new PocketsphinxSTTService({ mode: { grammar: 'public <a> = yes;' } })).toThrow(/#JSGF V1.0;/);
    expect(() => new PocketsphinxSTTService({ mode: 'free' as 'dictation' })).toThrow(/mode must be/);
  });

  it('names the apt packages when the library is missing', async () => {
    const stt = service({ libraryPath: '/nonexistent/libpocketsphinx.so.3', name: 'sphinx' });
    const { transcripts, errors } = await hearTurn(stt, await synthesizeSpeech('Hello.'), 16000);
    expect(transcripts).toEqual([]);
    expect(errors).toHaveLength(1);
    const error = errors[0]!.error;
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.message).toMatch(
      /^sphinx: pocketsphinx: cannot load \/nonexistent\/libpocketsphinx\.so\.3 .*install it with: apt-get install libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us$/,
    );
  });

  it('names the apt package when the model is missing', async () => {
    await expect(PocketsphinxDecoder.create({ mode: 'dictation', hmmPath: '/nonexistent/en-us' })).rejects.toThrow(
      'pocketsphinx: acoustic model not found at /nonexistent/en-us; install the US English model with: apt-get install pocketsphinx-en-us',
    );
  });

  it.skipIf(!hasPocketsphinx)(`rejects a grammar using a word missing from the dictionary${needs}`, async () => {
    await expect(
      PocketsphinxDecoder.create({ mode: { grammar: '#JSGF V1.0;\ngrammar g;\npublic <a> = zzqxv;\n' } }),
    ).rejects.toThrow(/grammar was rejected/);
  });

  it.skipIf(!hasPocketsphinx)(`dictation hears Flite speech at 16 kHz${needs}`, async () => {
    const { transcripts, errors } = await hearTurn(service(), await synthesizeSpeech(HUMAN), 16000);
    expect(errors).toEqual([]);
    // Observed: "i want to talk to a human please" (exact for the kal16 voice; other voices lose a word or two).
    expect(transcripts).toHaveLength(1);
    expect(transcripts[0]).toMatch(/\bhuman\b/);
    expect(transcripts[0]).toMatch(/\btalk\b/);
  });

  it.skipIf(!hasPocketsphinx)(`grammar mode gives the exact sentence${needs}`, async () => {
    const stt = service({ mode: { grammar: GRAMMAR } });
    expect((await hearTurn(stt, await synthesizeSpeech(HUMAN, { voice: 'slt' }), 16000)).transcripts).toEqual([
      'i want to talk to a human please',
    ]);
  });

  it.skipIf(!hasPocketsphinx)(`8 kHz caller audio is resampled to 16 kHz on the way in${needs}`, async () => {
    const narrow = await synthesizeSpeech(HUMAN, { sampleRate: 8000 });
    // Grammar mode copes with narrowband audio: exact.
    const grammar = await hearTurn(service({ mode: { grammar: GRAMMAR } }), narrow, 8000);
    expect(grammar.transcripts).toEqual(['i want to talk to a human please']);
    // Dictation does not. Observed for this sentence (kal16 voice made at 8 kHz, resampled by the pipeline):
    // "ottawa and a lot you one point", no word right, where the same voice at 16 kHz is exact. Over 12 sentences
    // in 4 Flite voices (decoded without the pipeline's leading silence) the word error rate was 49% at 8 kHz
    // resampled, against 14% at 16 kHz.
    const dictation = await hearTurn(service(), narrow, 8000);
    expect(dictation.errors).toEqual([]);
    expect(dictation.transcripts).toHaveLength(1);
    expect(dictation.transcripts[0]!.split(' ').length).toBeGreaterThan(2);
  });

  it.skipIf(!hasPocketsphinx)(`creates its decoder once and reuses it for every turn${needs}`, async () => {
    const create = vi.spyOn(PocketsphinxDecoder, 'create');
    const stt = service({ mode: { grammar: GRAMMAR } });
    const collector = new FrameCollector();
    const task = new PipelineTask(new Pipeline([stt, collector]), { logger: silentLogger, audioInSampleRate: 16000 });
    const running = task.run();
    for (const text of [HUMAN, BALANCE, 'Goodbye.']) {
      await sendTurn(task, collector, await synthesizeSpeech(text), 16000);
    }
    await collector.waitFor((f) => f.type === 'transcription' && f.text === 'goodbye');
    task.stopWhenDone();
    await running;
    expect(collector.ofType('transcription').map((f) => f.text)).toEqual([
      'i want to talk to a human please',
      'what is my account balance',
      'goodbye',
    ]);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it.skipIf(!hasPocketsphinx)(`two services decoding at once do not interfere${needs}`, async () => {
    const [human, balance] = await Promise.all([synthesizeSpeech(HUMAN), synthesizeSpeech(BALANCE)]);
    // Each decoded alone gives its sentence exactly (kal16 voice, 16 kHz); at once, each decoder keeps its own. The
    // request goes through a domain model: the general one hears "i want to talk to us human please" there.
    const together = await Promise.all([
      hearTurn(service({ phrases: [HUMAN, BALANCE] }), human, 16000),
      hearTurn(service(), balance, 16000),
      hearTurn(service({ mode: { grammar: GRAMMAR } }), balance, 16000),
    ]);
    expect(together.map((r) => r.transcripts)).toEqual([
      ['i want to talk to a human please'],
      ['what is my account balance'],
      ['what is my account balance'],
    ]);
  });

  it.skipIf(!hasPocketsphinx)(`decodes without blocking the event loop${needs}`, async () => {
    const decoder = await PocketsphinxDecoder.create({ mode: 'dictation' });
    try {
      // Three sentences, about 8 s of speech: 1-2 s of decoding that would freeze every call if run inline.
      const speech = concatAudio(
        await synthesizeSpeech(HUMAN),
        silence(300, 16000),
        await synthesizeSpeech(BALANCE),
        silence(300, 16000),
        await synthesizeSpeech(HUMAN),
      );
      let text = '';
      const started = performance.now();
      const stall = await longestStall(async () => {
        text = await decoder.decode(speech);
      });
      const decodeMs = performance.now() - started;
      // Measured (2 busy cores): decoding took 1.2-1.6 s while the longest stall was 7-11 ms.
      expect(text).toMatch(/human/);
      expect(decodeMs).toBeGreaterThan(200);
      expect(stall).toBeLessThan(decodeMs / 4);
    } finally {
      await decoder.free();
    }
  });

  it.skipIf(!hasPocketsphinx)(`returns '' for silence and fails after the decoder is freed${needs}`, async () => {
    const decoder = await PocketsphinxDecoder.create({ mode: { grammar: GRAMMAR } });
    expect(await decoder.decode(silence(500, 16000))).toBe('');
    expect(await decoder.decode(new Int16Array(0))).toBe('');
    await decoder.free();
    await expect(decoder.decode(silence(100, 16000))).rejects.toThrow(/freed/);
  });
});

describe('PocketsphinxSTTService.prewarm', () => {
  // A grammar no other test uses: spare decoders are kept per configuration, process-wide.
  const options: PocketsphinxSTTServiceOptions = {
    mode: { grammar: '#JSGF V1.0;\ngrammar prewarm;\npublic <request> = i want to talk to a human please | goodbye;\n' },
  };

  it.skipIf(!hasPocketsphinx)(`loads a decoder before the call, which the call takes at once; the next spare loads behind it${needs}`, async () => {
    const create = vi.spyOn(PocketsphinxDecoder, 'create');
    await PocketsphinxSTTService.prewarm(options);
    await PocketsphinxSTTService.prewarm(options); // a spare is already there: nothing more is loaded
    expect(create).toHaveBeenCalledTimes(1);

    // The first call's decoder is the prewarmed one (and it recognises); taking it starts loading the next spare.
    const first = service(options);
    expect((await hearTurn(first, await synthesizeSpeech(HUMAN, { voice: 'slt' }), 16000)).transcripts).toEqual([
      'i want to talk to a human please',
    ]);
    expect(create).toHaveBeenCalledTimes(2);
    // The second call takes that spare: a fresh decoder, never the first call's.
    const second = service(options);
    await second.warmUp();
    expect(create).toHaveBeenCalledTimes(3);
  });

  it(`rejects with the loader's error when the model is missing`, async () => {
    await expect(PocketsphinxSTTService.prewarm({ ...options, hmmPath: '/nonexistent/en-us' })).rejects.toThrow(
      /acoustic model not found at \/nonexistent\/en-us/,
    );
  });
});
