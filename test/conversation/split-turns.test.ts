// A caller's sentence is one user turn, whatever the STT's cadence of final results. A streaming STT (Deepgram)
// locks a final result every few seconds of audio, in the middle of a sentence if need be; the turn must still end
// only when the STT has transcribed the audio up to the VAD stop, not on the first final.
//
// Each run feeds 20 sentences of Flite speech, each followed by 300 ms of silence and a VAD stop, into
// STT -> UserTurnAggregator, as fast as the pipeline takes them (the fakes time results by audio, not wall clock),
// and compares the user turns with the sentences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputAudioFrame, makeFrame } from '../../src/frames/index.js';
import { LLMContext } from '../../src/llm/context.js';
import { Pipeline } from '../../src/pipeline/index.js';
import type { STTService } from '../../src/services/base/index.js';
import { DeepgramSTTService } from '../../src/services/deepgram/index.js';
import { PocketsphinxSTTService } from '../../src/services/local/pocketsphinx/index.js';
import { OpenAISTTService } from '../../src/services/openai/stt.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../src/testing/fakes/deepgram.js';
import { startFakeOpenAIAudio, type FakeOpenAIAudio } from '../../src/testing/fakes/openai-audio.js';
import { silence, synthesizeSpeech } from '../../src/testing/speech.js';
import { Conversation, UserTurnAggregator } from '../../src/conversation/index.js';
import { runPipeline } from '../support/pipeline.js';
import { hasPocketsphinx, pocketsphinxNeeds } from '../support/pocketsphinx.js';

const SENTENCES = [
  'I would like to check the status of my order from last week.',
  'My account number is four five six seven eight nine.',
  'Can you tell me when the next delivery will arrive at my house?',
  'I moved to a new address and I need to update it today.',
  'The package was left outside and it got wet in the rain.',
  'Please send me a replacement for the broken phone charger.',
  'I was charged twice for the same subscription this month.',
  'Could you explain the difference between the basic and premium plans?',
  'My internet connection drops every evening around eight o clock.',
  'I would like to speak to somebody about a refund please.',
  'The invoice shows a fee that nobody told me about.',
  'Is it possible to pause my membership for two months?',
  'I forgot my password and the reset email never arrived.',
  'We are planning a trip and need to add roaming to my plan.',
  'The technician did not show up during the promised time window.',
  'Can you read back the address you have on file for me?',
  'I want to cancel the extra line that my son was using.',
  'How many minutes do I have left before the end of the cycle?',
  'Thank you, that answers my question about the late fee.',
  'One more thing, can I pay the balance with a different card?',
];
const RATE = 16000;
const FRAME = (RATE * 20) / 1000;

let speech: Int16Array[];
beforeAll(async () => {
  speech = await Promise.all(SENTENCES.map((text) => synthesizeSpeech(text, { sampleRate: RATE })));
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Feeds the sentences through `stt` and an aggregator; resolves to the user turns. */
async function userTurns(stt: STTService, options: { waitForTranscriptionComplete?: boolean } = {}): Promise<string[]> {
  const turns: string[] = [];
  const aggregator = new UserTurnAggregator({
    conversation: new Conversation({ context: new LLMContext(), onUserTurn: (text) => turns.push(text) }),
    waitForTranscriptionComplete: options.waitForTranscriptionComplete ?? stt.reportsTranscriptionComplete,
    // Generous: the fakes answer at once, so the wait only matters if the STT never says the turn is done.
    finalTranscriptTimeoutMs: 5000,
  });
  const call = runPipeline(new Pipeline([stt, aggregator]), { audioInSampleRate: RATE });
  // One 20 ms frame per event-loop turn: VAD frames are system frames and would overtake audio still queued.
  const send = async (audio: Int16Array): Promise<void> => {
    for (let at = 0; at < audio.length; at += FRAME) {
      await call.task.queueFrame(inputAudioFrame(audio.slice(at, at + FRAME), RATE));
      await tick();
    }
  };
  await send(silence(300, RATE));
  for (const [n, sentence] of speech.entries()) {
    await call.task.queueFrame(makeFrame('user-started-speaking'));
    await send(sentence);
    await send(silence(300, RATE));
    await call.task.queueFrame(makeFrame('user-stopped-speaking'));
    // The next sentence starts after this one's turn is in: a pause of the caller's, not a barge-in.
    const deadline = Date.now() + 10_000;
    while (turns.length < n + 1 && Date.now() < deadline) await tick();
    await send(silence(500, RATE));
  }
  await call.stop();
  expect(call.errors).toEqual([]);
  return turns;
}

describe('no split turns: a sentence is one turn whatever the STT cadence', () => {
  let deepgram: FakeDeepgram;
  afterAll(() => deepgram?.close());

  async function deepgramService(finalIntervalMs: number): Promise<DeepgramSTTService> {
    await deepgram?.close();
    deepgram = await startFakeDeepgram({ finalIntervalMs, interimIntervalMs: 300 });
    deepgram.scriptTranscripts(...SENTENCES);
    return new DeepgramSTTService({ apiKey: 'dg-test-0123456789', baseUrl: deepgram.url });
  }

  it.each([300, 700, 1000, 4000])('Deepgram with a final result every %i ms of audio: 20 sentences, 20 turns', async (finalIntervalMs) => {
    const stt = await deepgramService(finalIntervalMs);
    const turns = await userTurns(stt);
    expect(turns).toEqual(SENTENCES);
    if (finalIntervalMs < 3000) {
      // The STT did send finals in the middle of sentences: this is what used to split them.
      const finals = deepgram.listenSessions[0]!.sent.filter((m) => m.type === 'Results' && m.is_final === true && m.transcript !== '');
      expect(finals.length).toBeGreaterThan(SENTENCES.length);
    }
  });

  it('without waiting for the STT to finish a turn, the same audio at 700 ms splits sentences (the old rule, kept for STTs that never say)', async () => {
    const stt = await deepgramService(700);
    const turns = await userTurns(stt, { waitForTranscriptionComplete: false });
    expect(turns.length).toBeGreaterThan(SENTENCES.length);
    expect(turns.join(' ')).toBe(SENTENCES.join(' '));
  });

  it('OpenAI speech-to-text (one request per turn): 20 sentences, 20 turns', async () => {
    const openai: FakeOpenAIAudio = await startFakeOpenAIAudio();
    try {
      openai.scriptTranscripts(SENTENCES);
      const stt = new OpenAISTTService({ apiKey: 'sk-test-0123456789', baseURL: openai.baseURL });
      expect(stt.reportsTranscriptionComplete).toBe(true);
      expect(await userTurns(stt)).toEqual(SENTENCES);
    } finally {
      await openai.close();
    }
  });

  it.skipIf(!hasPocketsphinx)(`PocketSphinx (offline, one decode per turn): 20 sentences, 20 turns${pocketsphinxNeeds}`, async () => {
    // Grammar mode (the 20 sentences): decoding is fast and exact, so each turn can be compared whole.
    const spoken = SENTENCES.map((sentence) => sentence.toLowerCase().replace(/[^a-z ]/g, ''));
    const grammar = `#JSGF V1.0;\ngrammar calls;\npublic <sentence> = ${spoken.map((words) => `(${words})`).join(' | ')};\n`;
    const stt = new PocketsphinxSTTService({ mode: { grammar } });
    try {
      expect(await userTurns(stt)).toEqual(spoken);
    } finally {
      await stt.cleanup();
    }
  });
});
