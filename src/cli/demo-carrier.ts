// `piopiy-ai demo --carrier twilio`: the seed call (the caller asks for a human, the agent says so and transfers)
// through a carrier's media stream instead of a Piopiy room, offline: the fake carrier (piopiy-ai/testing) places
// the call at the carrier's server (TwilioServer, ExotelServer, ...) on this machine, speaks the caller's line (Flite), plays and records the agent, and
// serves the REST API the transfer goes through. Services come from the environment as in the Piopiy demo (the
// offline engines and scripted rules without keys).
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWavFile } from '../audio/index.js';
import { FunctionSchema } from '../llm/function-schema.js';
import { servicesFromEnvironment } from '../services/auto/index.js';
import { PocketsphinxSTTService } from '../services/local/index.js';
import type { FakeStreamCall, FakeStreamCallEndReason } from '../testing/carriers/fake-stream-call.js';
import { synthesizeSpeech } from '../testing/speech.js';
import { CARRIER_HARNESSES, type DemoCarrier, type DemoRestRequest } from './demo-carriers.js';
import { VoiceAgent } from '../voice-agent/index.js';

export { DEMO_CARRIERS, type DemoCarrier } from './demo-carriers.js';

export interface CarrierDemoOptions {
  carrier: DemoCarrier;
  /** Default: the system temp folder. */
  recordingDir?: string;
  /** Longest the whole call may take. Default 60 s. */
  timeoutSecs?: number;
  out: (line: string) => void;
  progress: (line: string) => void;
}

export interface CarrierDemoResult {
  ok: boolean;
  reason?: string;
  carrier: DemoCarrier;
  callId: string | null;
  endReason: FakeStreamCallEndReason | null;
  transferredTo: string | null;
  /** What the agent heard and said, in order. */
  transcript: { role: 'user' | 'assistant'; text: string }[];
  restRequests: DemoRestRequest[];
  /** The caller's audio packets the agent's jitter buffer saw, and how many came too late or not at all. */
  jitter: { receivedPackets: number; latePackets: number; lostFrames: number } | null;
  recording: string | null;
}

const LINE = 'I want to talk to a human please';
const GREETING = 'Hello! How can I help you today?';
const CALLER_GRAMMAR = `#JSGF V1.0;
grammar caller;
public <line> = i want to talk to a human please | hello | goodbye;
`;

export async function runCarrierDemo(options: CarrierDemoOptions): Promise<CarrierDemoResult> {
  const { out, progress } = options;
  const started = performance.now();
  const at = (): string => `[${((performance.now() - started) / 1000).toFixed(1)}s]`;
  progress(`starting the fake ${options.carrier} and an agent server ...`);
  const transferSchema = new FunctionSchema({
    name: 'transfer_to_human',
    description: 'Transfer the call to a human support agent when requested.',
    properties: { reason: { type: 'string', description: 'The reason for the transfer' } },
    required: [],
  });
  const transcript: CarrierDemoResult['transcript'] = [];
  let jitter: CarrierDemoResult['jitter'] = null;
  const harness = await CARRIER_HARNESSES[options.carrier](async (call) => {
    const voice = new VoiceAgent({
      instructions: 'You are a helpful phone assistant. Transfer to a human if the caller asks.',
      greeting: GREETING,
      idleTimeoutSecs: 0,
    });
    // This call's own events, not the process-wide diagnostics channel: demos running side by side in one process
    // (the tests) must not see each other's turns.
    voice.events.on('assistant-turn', (text, interrupted) => {
      transcript.push({ role: 'assistant', text });
      out(`${at()} agent:  ${text}${interrupted ? ' (interrupted)' : ''}`);
    });
    voice.events.on('user-turn', (text) => {
      transcript.push({ role: 'user', text });
      out(`${at()} heard:  ${text}`);
    });
    voice.events.on('tool-call', (call) => {
      out(`${at()} tool:   ${call.name}(${JSON.stringify(call.arguments)}) -> ${JSON.stringify(call.error ?? call.result)}`);
    });
    voice.addTool(transferSchema, async () => {
      await voice.speechPlayed(); // the caller hears "connecting you" before leaving the stream
      await call.transferToHuman();
      return 'transferred';
    });
    const services = await servicesFromEnvironment({
      rules: [
        {
          match: /\b(human|person|someone|agent|representative)\b/i,
          reply: 'Of course. I am connecting you to a human representative now.',
          toolCall: { name: 'transfer_to_human', arguments: { reason: 'The caller asked for a human.' } },
        },
      ],
      fallback: 'I can connect you to a human agent. Just ask.',
    });
    // Phone audio is 8 kHz: offline dictation of narrowband speech is poor, so the offline STT listens for the
    // caller's sentences with a grammar (a vendor STT, when its key is set, takes free speech).
    let stt = services.stt;
    if (stt instanceof PocketsphinxSTTService) {
      await stt.cleanup().catch(() => undefined);
      stt = new PocketsphinxSTTService({ mode: { grammar: CALLER_GRAMMAR } });
      services.chosen[0] = 'stt: Pocketsphinx with a grammar of the caller\'s lines (offline)';
    }
    progress(services.chosen.join(', '));
    await voice.action({ stt, llm: services.llm, tts: services.tts, vad: true });
    try {
      await voice.start();
    } finally {
      const stats = call.transport.jitterStats;
      if (stats !== undefined) jitter = { receivedPackets: stats.receivedPackets, latePackets: stats.latePackets, lostFrames: stats.lostFrames };
    }
  });
  let reason: string | undefined;
  let call: FakeStreamCall | undefined;
  let callId: string | null = null;
  try {
    await harness.listen();
    const speech = await synthesizeSpeech(LINE, { sampleRate: harness.sampleRate });
    progress(`placing a call: ${harness.describe} ...`);
    ({ call, callId } = await harness.placeCall());
    const deadline = performance.now() + (options.timeoutSecs ?? 60) * 1000;
    const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
      while (!condition()) {
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitFor(() => transcript.some((t) => t.role === 'assistant') || call!.isEnded, 'the greeting');
    // The greeting is said at the agent; it reaches the caller a moment later.
    const heard = call.agentSpeechMs();
    await new Promise((resolve) => setTimeout(resolve, 700));
    if (call.agentSpeechMs() <= heard && heard === 0) throw new Error('the caller heard no greeting');
    out(`${at()} caller: ${LINE}`);
    await call.say(speech);
    await waitFor(() => call!.isEnded, 'the transfer');
    if (call.endReason !== 'transferred') reason = `the call ended (${call.endReason ?? 'unknown'}) without a transfer`;
  } catch (error) {
    reason = (error as Error).message;
  }
  const restRequests = harness.restRequests();
  await harness.close();
  let recording: string | null = null;
  if (call !== undefined) {
    const dir = options.recordingDir ?? join(tmpdir(), 'piopiy-ai-demo');
    mkdirSync(dir, { recursive: true });
    recording = join(dir, `${callId ?? 'call'}.wav`);
    await writeWavFile(recording, call.recording());
  }
  return {
    ok: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    carrier: options.carrier,
    callId,
    endReason: call?.endReason ?? null,
    transferredTo: call?.transferredTo ?? null,
    transcript,
    restRequests,
    jitter,
    recording,
  };
}
