// The other side of the capacity benchmark, in a process of its own (forked by bench/capacity/capacity.ts) so the
// agent's processes are measured alone: the Piopiy simulator (signaling and the media WebSocket, 8 kHz caller
// audio paced in real time, 20 ms a frame), the Deepgram, OpenAI and Cartesia fakes, and the callers. Each caller
// says a line per turn and times the agent's answer from the caller's side; the parent tells it how many calls.
import { startFakeCartesia } from '../../src/testing/fakes/cartesia.js';
import { startFakeDeepgram } from '../../src/testing/fakes/deepgram.js';
import { startFakeOpenAIChat } from '../../src/testing/fakes/openai-chat.js';
import { startPiopiySimulator, type SimulatedCall } from '../../src/testing/simulator/index.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import { AGENT_ID, AGENT_TOKEN, type EnvironmentReply, type EnvironmentRequest } from './protocol.js';

const LINE = 'What are your opening hours on Saturday?';
/** The agent has finished answering when it has been quiet this long. */
const QUIET_MS = 800;
/** A turn with no answer after this long counts as failed. */
const ANSWER_TIMEOUT_MS = 10_000;

const reply = (message: EnvironmentReply): void => void process.send?.(message);

const sim = await startPiopiySimulator();
sim.addAgent({ agentId: AGENT_ID, token: AGENT_TOKEN });
const deepgram = await startFakeDeepgram({ defaultTranscript: LINE });
const openai = await startFakeOpenAIChat({ defaultResponse: { text: 'We are open from nine to five on Saturday.' } });
const cartesia = await startFakeCartesia();
const speech = await synthesizeSpeech(LINE, { sampleRate: 8000 });
/** Flite's trailing silence: the caller stopped speaking this long before the last frame of the line was sent. */
const trailingSilenceMs = ((speech.length - 1 - speech.findLastIndex((s) => Math.abs(s) > 500)) / 8000) * 1000;

interface CallResult {
  voiceToVoiceMs: number[];
  gapsMs: number[];
  unanswered: number;
}

/** One caller: `turns` times, say the line and time the first loud agent frame after its last speech frame. */
async function converse(call: SimulatedCall, turns: number): Promise<CallResult> {
  const result: CallResult = { voiceToVoiceMs: [], gapsMs: [], unanswered: 0 };
  let lastLoudAt = 0;
  let previousAt: number | undefined;
  let speaking = false;
  call.onAgentAudio((frame) => {
    const loud = frame.audio.some((s) => Math.abs(s) > 500);
    // Arrival gaps while the agent speaks (before each loud frame): one late by more than its 20 ms is audio the
    // caller heard late.
    if (speaking && loud && previousAt !== undefined) result.gapsMs.push(frame.at - previousAt);
    previousAt = frame.at;
    if (loud) lastLoudAt = frame.at;
  });
  await call.answered;
  for (let turn = 0; turn < turns && !call.isEnded; turn++) {
    await call.say(speech);
    const spokeAt = (call.sent.at(-1)?.at ?? performance.now()) - trailingSilenceMs;
    const answer = await Promise.race([call.nextAgentSpeech(), new Promise<undefined>((r) => setTimeout(() => r(undefined), ANSWER_TIMEOUT_MS))]);
    if (answer === undefined) {
      result.unanswered++;
      continue;
    }
    result.voiceToVoiceMs.push(answer.at - spokeAt);
    speaking = true;
    previousAt = answer.at;
    while (!call.isEnded && performance.now() - lastLoudAt < QUIET_MS) await new Promise((r) => setTimeout(r, 100));
    speaking = false;
  }
  call.hangUp();
  return result;
}

process.on('message', (message: EnvironmentRequest) => {
  if (message.type === 'connected') {
    reply({ type: 'connected', connected: sim.connectedAgents().includes(AGENT_ID) });
    return;
  }
  void (async () => {
    const calls: Promise<CallResult>[] = [];
    for (let i = 0; i < message.calls; i++) {
      calls.push(converse(sim.placeCall({ agentId: AGENT_ID, sampleRate: 8000 }), message.turns));
      await new Promise((r) => setTimeout(r, 50)); // callers arrive over a moment, not in one event-loop turn
    }
    const results = await Promise.all(calls);
    reply({
      type: 'result',
      voiceToVoiceMs: results.flatMap((r) => r.voiceToVoiceMs),
      gapsMs: results.flatMap((r) => r.gapsMs),
      unanswered: results.reduce((n, r) => n + r.unanswered, 0),
    });
  })();
});

reply({ type: 'ready', signalingUrl: sim.signalingUrl, deepgramUrl: deepgram.url, openaiUrl: openai.baseURL, cartesiaUrl: cartesia.baseUrl });
process.on('disconnect', () => process.exit(0));
