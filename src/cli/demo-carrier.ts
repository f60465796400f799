// `piopiy-ai demo --carrier twilio`: the seed call (the caller asks for a human, the agent says so and transfers)
// through a carrier's media stream instead of a Piopiy room, offline: the fake carrier (piopiy-ai/testing) places
// the call at the carrier's server (TwilioServer, ExotelServer) on this machine, speaks the caller's line (Flite), plays and records the agent, and
// serves the REST API the transfer goes through. Services come from the environment as in the Piopiy demo (the
// offline engines and scripted rules without keys).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWavFile } from '../audio/index.js';
import { FunctionSchema } from '../llm/function-schema.js';
import { silentLogger } from '../logging/index.js';
import { servicesFromEnvironment } from '../services/auto/index.js';
import { PocketsphinxSTTService } from '../services/local/index.js';
import { startFakeExotel } from '../testing/carriers/exotel.js';
import type { FakeStreamCall, FakeStreamCallEndReason } from '../testing/carriers/fake-stream-call.js';
import { startFakeTwilio } from '../testing/carriers/twilio.js';
import { synthesizeSpeech } from '../testing/speech.js';
import { ExotelServer } from '../transports/exotel/exotel-server.js';
import type { MediaStreamSessionBase } from '../transports/media-stream/stream-sessions.js';
import { TwilioServer } from '../transports/twilio/twilio-server.js';
import { VOICE_AGENT_CHANNEL, VoiceAgent, type VoiceAgentDiagnostic } from '../voice-agent/index.js';

/** The carriers the demo can place its call through. */
export const DEMO_CARRIERS = ['twilio', 'exotel'] as const;
export type DemoCarrier = (typeof DEMO_CARRIERS)[number];

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
  restRequests: { method: string; path: string; params: Record<string, string> }[];
  /** The caller's audio packets the agent's jitter buffer saw, and how many came too late or not at all. */
  jitter: { receivedPackets: number; latePackets: number; lostFrames: number } | null;
  recording: string | null;
}

const SUPPORT_NUMBER = '+15550199999';
const LINE = 'I want to talk to a human please';
const GREETING = 'Hello! How can I help you today?';
const CALLER_GRAMMAR = `#JSGF V1.0;
grammar caller;
public <line> = i want to talk to a human please | hello | goodbye;
`;

/** A call on the carrier's server, with the one thing the demo needs of it: handing the caller to a human. */
type DemoCall = MediaStreamSessionBase & { transferToHuman(): Promise<void> };

/** The fake carrier and the agent's server for it, wired together. */
interface CarrierHarness {
  listen(): Promise<void>;
  /** What the fake does to place the call, for the progress line. */
  describe: string;
  placeCall(): Promise<FakeStreamCall & { callSid: string }>;
  restRequests(): CarrierDemoResult['restRequests'];
  close(): Promise<void>;
}

async function startHarness(carrier: DemoCarrier, onCall: (call: DemoCall) => Promise<void>): Promise<CarrierHarness> {
  const from = carrier === 'exotel' ? '+919800000001' : '+15550100001';
  const to = carrier === 'exotel' ? '+918000000002' : '+15550100002';
  if (carrier === 'exotel') {
    const exotel = await startFakeExotel();
    const server = new ExotelServer({
      streamAuth: { username: 'demo', password: 'demo-secret' },
      logger: silentLogger,
      onCall: (call) => onCall({ ...call, transferToHuman: () => call.leaveStream() }),
    });
    let origin = '';
    return {
      listen: async () => void (origin = await server.listen()),
      describe: 'the Voicebot applet opens its stream (Basic credentials), a Connect applet to the support line follows',
      placeCall: () => exotel.placeCall({ streamUrl: server.streamUrl(origin), from, to, next: { connect: SUPPORT_NUMBER } }),
      restRequests: () => [],
      close: async () => {
        await server.close();
        await exotel.close();
      },
    };
  }
  const twilio = await startFakeTwilio();
  const server = new TwilioServer({
    accountSid: twilio.accountSid,
    authToken: twilio.authToken,
    apiBaseUrl: twilio.apiBaseUrl,
    logger: silentLogger,
    onCall: (call) => onCall({ ...call, transferToHuman: () => call.transfer(SUPPORT_NUMBER) }),
  });
  let origin = '';
  return {
    listen: async () => void (origin = await server.listen()),
    describe: 'Twilio POSTs the signed webhook and opens the stream its TwiML names',
    placeCall: () => twilio.placeCall({ answerUrl: `${origin}/twilio/voice`, from, to }),
    restRequests: () => twilio.restRequests.map((r) => ({ method: r.method, path: r.path, params: { ...r.params } })),
    close: async () => {
      await server.close();
      await twilio.close();
    },
  };
}

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
  const harness = await startHarness(options.carrier, async (call) => {
    const voice = new VoiceAgent({
      instructions: 'You are a helpful phone assistant. Transfer to a human if the caller asks.',
      greeting: GREETING,
      idleTimeoutSecs: 0,
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
  const onEvent = (message: unknown): void => {
    const event = message as VoiceAgentDiagnostic;
    if (event.event === 'assistant-turn') {
      transcript.push({ role: 'assistant', text: event.text });
      out(`${at()} agent:  ${event.text}${event.interrupted ? ' (interrupted)' : ''}`);
    } else if (event.event === 'user-turn') {
      transcript.push({ role: 'user', text: event.text });
      out(`${at()} heard:  ${event.text}`);
    } else if (event.event === 'tool-call') {
      out(`${at()} tool:   ${event.name}(${JSON.stringify(event.arguments)}) -> ${JSON.stringify(event.error ?? event.result)}`);
    }
  };
  subscribe(VOICE_AGENT_CHANNEL, onEvent);
  let reason: string | undefined;
  let call: (FakeStreamCall & { callSid: string }) | undefined;
  try {
    await harness.listen();
    const speech = await synthesizeSpeech(LINE, { sampleRate: 8000 });
    progress(`placing a call: ${harness.describe} ...`);
    call = await harness.placeCall();
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
  unsubscribe(VOICE_AGENT_CHANNEL, onEvent);
  let recording: string | null = null;
  if (call !== undefined) {
    const dir = options.recordingDir ?? join(tmpdir(), 'piopiy-ai-demo');
    mkdirSync(dir, { recursive: true });
    recording = join(dir, `${call.callSid}.wav`);
    await writeWavFile(recording, call.recording());
  }
  return {
    ok: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    carrier: options.carrier,
    callId: call?.callSid ?? null,
    endReason: call?.endReason ?? null,
    transferredTo: call?.transferredTo ?? null,
    transcript,
    restRequests,
    jitter,
    recording,
  };
}
