// `piopiy-ai demo --carrier twilio`: the seed call (the caller asks for a human, the agent says so and transfers)
// through a carrier's media stream instead of a Piopiy room, offline: the fake carrier (piopiy-ai/testing) places
// the call at a TwilioServer on this machine, speaks the caller's line (Flite), plays and records the agent, and
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
import { startFakeTwilio, type FakeTwilioCallEndReason } from '../testing/carriers/twilio.js';
import { synthesizeSpeech } from '../testing/speech.js';
import { TwilioServer } from '../transports/twilio/twilio-server.js';
import { VOICE_AGENT_CHANNEL, VoiceAgent, type VoiceAgentDiagnostic } from '../voice-agent/index.js';

/** The carriers the demo can place its call through. */
export const DEMO_CARRIERS = ['twilio'] as const;
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
  endReason: FakeTwilioCallEndReason | null;
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

export async function runCarrierDemo(options: CarrierDemoOptions): Promise<CarrierDemoResult> {
  const { out, progress } = options;
  const started = performance.now();
  const at = (): string => `[${((performance.now() - started) / 1000).toFixed(1)}s]`;
  progress(`starting the fake ${options.carrier} and an agent server ...`);
  const twilio = await startFakeTwilio();
  const transferSchema = new FunctionSchema({
    name: 'transfer_to_human',
    description: 'Transfer the call to a human support agent when requested.',
    properties: { reason: { type: 'string', description: 'The reason for the transfer' } },
    required: [],
  });
  const transcript: CarrierDemoResult['transcript'] = [];
  let jitter: CarrierDemoResult['jitter'] = null;
  const server = new TwilioServer({
    accountSid: twilio.accountSid,
    authToken: twilio.authToken,
    apiBaseUrl: twilio.apiBaseUrl,
    logger: silentLogger,
    onCall: async (call) => {
      const voice = new VoiceAgent({
        instructions: 'You are a helpful phone assistant. Transfer to a human if the caller asks.',
        greeting: GREETING,
        idleTimeoutSecs: 0,
      });
      voice.addTool(transferSchema, async () => {
        await voice.speechPlayed(); // the caller hears "connecting you" before leaving the stream
        await call.transfer(SUPPORT_NUMBER);
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
    },
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
  let call: Awaited<ReturnType<typeof twilio.placeCall>> | undefined;
  try {
    const origin = await server.listen();
    const speech = await synthesizeSpeech(LINE, { sampleRate: 8000 });
    progress(`placing a call: Twilio POSTs the signed webhook ${origin}/twilio/voice and opens the stream ...`);
    call = await twilio.placeCall({ answerUrl: `${origin}/twilio/voice`, from: '+15550100001', to: '+15550100002' });
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
  await server.close();
  unsubscribe(VOICE_AGENT_CHANNEL, onEvent);
  let recording: string | null = null;
  if (call !== undefined) {
    const dir = options.recordingDir ?? join(tmpdir(), 'piopiy-ai-demo');
    mkdirSync(dir, { recursive: true });
    recording = join(dir, `${call.callSid}.wav`);
    await writeWavFile(recording, call.recording());
  }
  await twilio.close();
  return {
    ok: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    carrier: options.carrier,
    callId: call?.callSid ?? null,
    endReason: call?.endReason ?? null,
    transferredTo: call?.transferredTo ?? null,
    transcript,
    restRequests: twilio.restRequests.map((r) => ({ method: r.method, path: r.path, params: { ...r.params } })),
    jitter,
    recording,
  };
}
