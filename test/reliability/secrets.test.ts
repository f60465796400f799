// Secrets never leave: recognisable fake keys and tokens are set, every vendor client, the Agent, the REST client,
// the stream server and the dev server are driven into failures (refused keys echoed back the way vendors do,
// 429, 500, dropped sockets, invalid tool arguments) with logging at its most verbose, and every log line, every
// error surfaced to user code (message, stack, cause chain, own fields) and the dev page are scanned for the
// secrets, as they are and in their URL-encoded and base64 forms.
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Agent } from '../../src/agent/index.js';
import { startDevServer } from '../../src/cli/dev.js';
import { makeFrame, type ErrorFrame, type Frame } from '../../src/frames/index.js';
import { FunctionSchema, LLMContext, ToolRegistry } from '../../src/llm/index.js';
import { createLogger, type Logger } from '../../src/logging/index.js';
import { RestClient } from '../../src/piopiy/index.js';
import { Pipeline, PipelineTask, type FrameProcessor } from '../../src/pipeline/index.js';
import { AnthropicLLMService } from '../../src/services/anthropic/index.js';
import { CartesiaTTSService } from '../../src/services/cartesia/index.js';
import { DeepgramSTTService, DeepgramTTSService } from '../../src/services/deepgram/index.js';
import { ElevenLabsTTSService } from '../../src/services/elevenlabs/index.js';
import { GoogleLLMService } from '../../src/services/google/index.js';
import { OpenAILLMService } from '../../src/services/openai/index.js';
import {
  startFakeAnthropic,
  startFakeCartesia,
  startFakeDeepgram,
  startFakeElevenLabs,
  startFakeGemini,
  startFakeOpenAIChat,
} from '../../src/testing/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator } from '../../src/testing/simulator/index.js';
import { PiopiyStreamServer } from '../../src/transports/websocket/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { EnergyVAD, speechTone } from '../../src/testing/energy-vad.js';
import { sleep, waitUntil } from '../support/wait.js';

const SECRETS = {
  OPENAI_API_KEY: 'sk-TESTSECRET-OPENAI-0123456789abcdefABCDEF',
  ANTHROPIC_API_KEY: 'sk-ant-api03-TESTSECRET-ANTHROPIC-0123456789abcdef',
  GOOGLE_API_KEY: 'AIzaSyTESTSECRET-GOOGLE-0123456789abcdefgh',
  DEEPGRAM_API_KEY: 'TESTSECRETdeepgram0123456789abcdef01234567',
  CARTESIA_API_KEY: 'sk_car_TESTSECRET_CARTESIA_0123456789abcdef',
  ELEVENLABS_API_KEY: 'sk_TESTSECRET_ELEVENLABS_0123456789abcdef01',
  AGENT_TOKEN: 'TESTSECRET-AGENT-TOKEN-0123456789abcdef',
  PIOPIY_TOKEN: 'TESTSECRET-REST-TOKEN-0123456789abcdef',
  STREAM_TOKEN: 'TESTSECRET-STREAM-TOKEN-0123456789abcdef',
} as const;

/** Every form a secret could take in text: as is, URL-encoded, base64 (alone and as Basic credentials). */
function secretForms(secret: string): string[] {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  // The marker catches partial echoes too (a vendor printing the first twenty characters of a key).
  return ['TESTSECRET', secret, encodeURIComponent(secret), b64(secret), b64(`${secret}:`), b64(`:${secret}`), b64(`api:${secret}`)];
}

const extraSecrets: string[] = [];
/** Which secret (or form of one) `text` holds, if any. */
function leakIn(text: string): string | undefined {
  for (const secret of [...Object.values(SECRETS), ...extraSecrets]) {
    for (const form of secretForms(secret)) if (text.includes(form)) return form;
  }
  return undefined;
}

/** A pino logger at debug level, through the project's redaction settings, whose lines go to `lines`. */
function capturedLogger(lines: string[]): Logger {
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return createLogger({ level: 'debug', destination });
}

/** Everything user code can see of an error: message, stack, cause chain and own fields. */
const describeError = (error: unknown): string => `${String(error)}\n${inspect(error, { depth: 8, showHidden: false })}`;

const logLines: string[] = [];
const surfaced: string[] = [];
let logger: Logger;

beforeAll(() => {
  logger = capturedLogger(logLines);
  for (const [name, value] of Object.entries(SECRETS)) process.env[name] = value;
});

afterAll(() => {
  for (const name of Object.keys(SECRETS)) delete process.env[name];
});

function expectNoLeaks(where: string): void {
  expect(logLines.length, 'nothing was logged: the capture is not working').toBeGreaterThan(0);
  for (const line of logLines) expect(leakIn(line), `${where}: log line ${line}`).toBeUndefined();
  for (const text of surfaced) expect(leakIn(text), `${where}: error ${text}`).toBeUndefined();
}

/** Runs `processor` in a task with the captured logger, feeds it `frames`, waits, and records the error frames. */
async function drive(processor: FrameProcessor, frames: readonly Frame[], settle: () => boolean, timeoutMs = 8000): Promise<ErrorFrame[]> {
  const errors: ErrorFrame[] = [];
  const task = new PipelineTask(new Pipeline([processor]), {
    logger,
    onError: (frame) => {
      errors.push(frame);
      surfaced.push(describeError(frame.error));
    },
  });
  const running = task.run();
  for (const frame of frames) await task.queueFrame(frame);
  await waitUntil(settle, timeoutMs).catch(() => undefined);
  await sleep(100); // the answer to the last request is still being read
  task.cancel('test over');
  await running;
  return errors;
}

const context = (text: string): Frame =>
  makeFrame('llm-context', { context: new LLMContext([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: text }]) });
const sentence = (text: string): Frame[] => [makeFrame('llm-response-start'), makeFrame('llm-text', { text }), makeFrame('llm-response-end')];
const tone = (ms: number): Frame => makeFrame('input-audio', { audio: speechTone(ms), sampleRate: 16000, channels: 1 });

describe('secrets stay out of logs and errors', () => {
  it('the scanner finds a secret in each of its forms', () => {
    const key = SECRETS.CARTESIA_API_KEY;
    for (const text of [key, encodeURIComponent(key), Buffer.from(key).toString('base64'), `Basic ${Buffer.from(`api:${key}`).toString('base64')}`]) {
      expect(leakIn(`… ${text} …`)).toBeDefined();
    }
    expect(leakIn('sk-proj-****CDEF [redacted]')).toBeUndefined();
  });

  it('LLM clients: refused keys echoed by the vendor, 429, 500, drops, invalid tool arguments', async () => {
    const openai = await startFakeOpenAIChat({ rejectKey: SECRETS.OPENAI_API_KEY });
    const anthropic = await startFakeAnthropic({ rejectKey: SECRETS.ANTHROPIC_API_KEY });
    const gemini = await startFakeGemini({ rejectKey: SECRETS.GOOGLE_API_KEY });
    try {
      // Refused keys: OpenAI echoes a masked key in its 401; the others are scripted to echo it in full.
      const refused = [
        new OpenAILLMService({ apiKey: SECRETS.OPENAI_API_KEY, baseURL: openai.baseURL }),
        new AnthropicLLMService({ apiKey: SECRETS.ANTHROPIC_API_KEY, baseURL: anthropic.baseURL, maxAttempts: 1 }),
        new GoogleLLMService({ apiKey: SECRETS.GOOGLE_API_KEY, baseURL: gemini.baseURL, maxAttempts: 1 }),
      ];
      for (const llm of refused) {
        const before = surfaced.length;
        const errors = await drive(llm, [context('Hello')], () => surfaced.length > before);
        expect(errors.length, llm.name).toBeGreaterThan(0);
      }
      // A key the vendor accepts, then every failure it can answer, each echoing the key in its message.
      const good = 'sk-TESTSECRET-OPENAI-accepted-0123456789';
      extraSecrets.push(good);
      openai.enqueue(
        { error: 401, message: `Incorrect API key provided: ${good}.` },
        { error: 429, retryAfter: 0, message: `Rate limit reached for key ${good}` },
        { error: 500, message: `internal error (key ${good})` },
        { dropAfterChunks: 1, text: 'Hello there' },
        { inBandError: true, message: `stream broke for ${good}` },
        { toolCalls: [{ name: 'lookup_order', arguments: `{"order": "${good}"` }] },
        { toolCalls: [{ name: 'lookup_order', arguments: { order: 42 } }] },
        { text: 'Done.' },
      );
      anthropic.enqueue(
        { error: 401, message: `invalid x-api-key ${SECRETS.ANTHROPIC_API_KEY}` },
        { error: 429, retryAfter: 0, message: `rate limited ${SECRETS.ANTHROPIC_API_KEY}` },
        { error: 500 },
        { dropAfterEvents: 2, text: 'Hello there' },
      );
      gemini.enqueue(
        { error: 400, message: `API key not valid: ${SECRETS.GOOGLE_API_KEY}` },
        { error: 429, retryDelaySecs: 0, message: `quota for ${SECRETS.GOOGLE_API_KEY}` },
        { error: 500 },
        { dropAfterChunks: 1, text: 'Hello there' },
      );
      const llms = [
        new OpenAILLMService({ apiKey: good, baseURL: openai.baseURL }),
        new AnthropicLLMService({ apiKey: 'sk-ant-accepted-TESTSECRET-0123456789', baseURL: anthropic.baseURL, maxAttempts: 1 }),
        new GoogleLLMService({ apiKey: 'AIzaAccepted-TESTSECRET-0123456789', baseURL: gemini.baseURL, maxAttempts: 1 }),
      ];
      extraSecrets.push('sk-ant-accepted-TESTSECRET-0123456789', 'AIzaAccepted-TESTSECRET-0123456789');
      const registry = new ToolRegistry();
      registry.register(
        new FunctionSchema({ name: 'lookup_order', description: 'Order.', properties: { order: { type: 'string' } }, required: ['order'] }),
        () => 'shipped',
      );
      const queued = [8, 4, 4];
      for (const [i, llm] of llms.entries()) {
        llm.setTools({ registry });
        const fake = [openai, anthropic, gemini][i]!;
        const target = fake.requests.length + queued[i]!;
        await drive(llm, [0, 1, 2, 3, 4, 5].map((n) => context(`question ${n}`)), () => fake.requests.length >= target, 8000);
      }
      // The failures happened and were reported: one error (or more) per scripted failure reached user code.
      expect(openai.requests.length + anthropic.requests.length + gemini.requests.length).toBeGreaterThanOrEqual(14);
      expectNoLeaks('LLM clients');
    } finally {
      await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
    }
  }, 60_000);

  it('STT and TTS clients: refused handshakes, 429, 500, dropped sockets', async () => {
    const deepgram = await startFakeDeepgram({ rejectKey: SECRETS.DEEPGRAM_API_KEY });
    const cartesia = await startFakeCartesia({ rejectKey: SECRETS.CARTESIA_API_KEY });
    const elevenlabs = await startFakeElevenLabs({ rejectKey: SECRETS.ELEVENLABS_API_KEY });
    try {
      const refused: FrameProcessor[] = [
        new DeepgramSTTService({ apiKey: SECRETS.DEEPGRAM_API_KEY, baseUrl: deepgram.url }),
        new DeepgramTTSService({ apiKey: SECRETS.DEEPGRAM_API_KEY, baseUrl: deepgram.httpUrl }),
        new CartesiaTTSService({ apiKey: SECRETS.CARTESIA_API_KEY, baseUrl: cartesia.baseUrl }),
        new ElevenLabsTTSService({ apiKey: SECRETS.ELEVENLABS_API_KEY, baseUrl: elevenlabs.baseUrl, voiceId: 'voice-1' }),
      ];
      for (const service of refused) {
        const before = surfaced.length;
        const frames = service instanceof DeepgramSTTService ? [tone(400), tone(400)] : sentence('Hello there.');
        await drive(service, frames, () => surfaced.length > before, 5000);
        expect(surfaced.length, service.name).toBeGreaterThan(before);
      }

      // Accepted keys, then failures: 429 and 500 handshakes, sockets dropped mid-stream.
      const keys = {
        deepgram: 'TESTSECRETdeepgramAccepted0123456789abcdef',
        cartesia: 'sk_car_TESTSECRET_accepted_0123456789',
        elevenlabs: 'sk_TESTSECRET_accepted_0123456789abcdef',
      };
      extraSecrets.push(...Object.values(keys));
      deepgram.failNextConnections(429, 1, '/v1/listen');
      const stt = new DeepgramSTTService({ apiKey: keys.deepgram, baseUrl: deepgram.url });
      const sttRun = drive(stt, [tone(300)], () => false, 1500);
      await sleep(700);
      deepgram.dropConnections();
      await sttRun;

      cartesia.failHandshake({ status: 429, retryAfter: 0 }, { status: 500, message: `failed for ${keys.cartesia}` });
      cartesia.failGeneration({ drop: true, afterChunks: 1 });
      const cartesiaTTS = new CartesiaTTSService({ apiKey: keys.cartesia, baseUrl: cartesia.baseUrl });
      await drive(cartesiaTTS, [...sentence('One.'), ...sentence('Two.'), ...sentence('Three.'), ...sentence('Four.')], () => false, 2000);

      elevenlabs.failHandshake({ status: 429, retryAfter: 0 }, { status: 500, message: `failed for ${keys.elevenlabs}` });
      elevenlabs.failGeneration({ drop: true, afterChunks: 1 });
      const eleven = new ElevenLabsTTSService({ apiKey: keys.elevenlabs, baseUrl: elevenlabs.baseUrl, voiceId: 'voice-1' });
      await drive(eleven, [...sentence('One.'), ...sentence('Two.'), ...sentence('Three.'), ...sentence('Four.')], () => false, 2000);

      deepgram.enqueueSpeak({ error: 429 }, { error: 500 }, { drop: true });
      const aura = new DeepgramTTSService({ apiKey: keys.deepgram, baseUrl: deepgram.httpUrl });
      await drive(aura, [...sentence('One.'), ...sentence('Two.'), ...sentence('Three.')], () => false, 1500);
      expectNoLeaks('STT and TTS clients');
    } finally {
      await Promise.all([deepgram.close(), cartesia.close(), elevenlabs.close()]);
    }
  }, 60_000);

  it('Agent, RestClient and calls: refused credentials, a refused REST token, invalid tool arguments, media tokens', async () => {
    const sim = await startPiopiySimulator({ restTokens: [SECRETS.PIOPIY_TOKEN], transferDelayMs: 200 });
    sim.addAgent({ agentId: 'agent-secrets', token: SECRETS.AGENT_TOKEN });
    const openai = await startFakeOpenAIChat();
    const agents: Agent[] = [];
    try {
      const wrong = new Agent({
        agentId: 'agent-secrets',
        agentToken: `${SECRETS.AGENT_TOKEN}-wrong`,
        signalingUrl: sim.signalingUrl,
        createSession: () => undefined,
        logger,
        handleSignals: false,
      });
      agents.push(wrong);
      await wrong.connect().then(
        () => expect.unreachable('a wrong token must be refused'),
        (error: unknown) => surfaced.push(describeError(error)),
      );

      const badRest = new RestClient({ token: `${SECRETS.PIOPIY_TOKEN}-wrong`, baseUrl: sim.restBaseUrl });
      extraSecrets.push(`${SECRETS.PIOPIY_TOKEN}-wrong`);
      const goodRest = new RestClient({ token: SECRETS.PIOPIY_TOKEN, baseUrl: sim.restBaseUrl });
      openai.enqueue(
        { toolCalls: [{ name: 'transfer_to_human', arguments: '{"reason": ' }] }, // invalid JSON
        { toolCalls: [{ name: 'transfer_to_human', arguments: { reason: 7 } }] }, // schema violation
        { toolCalls: [{ name: 'transfer_to_human', arguments: { reason: 'asked' } }] },
        { text: 'Connecting you.' },
      );
      let restAttempts = 0;
      const agent = new Agent({
        agentId: 'agent-secrets',
        agentToken: SECRETS.AGENT_TOKEN,
        signalingUrl: sim.signalingUrl,
        logger,
        handleSignals: false,
        async createSession(call) {
          const voice = new VoiceAgent({ instructions: 'Transfer.', greeting: 'Hi.', idleTimeoutSecs: 0 });
          voice.events.on('error', (frame) => surfaced.push(describeError(frame.error)));
          voice.events.on('tool-call', (outcome) => surfaced.push(JSON.stringify(outcome)));
          voice.addTool(
            new FunctionSchema({ name: 'transfer_to_human', description: 'Transfer.', properties: { reason: { type: 'string' } }, required: ['reason'] }),
            async () => {
              const pipeline = goodRest.voice.pipeline().connect({ callerId: '918000000001' }, [{ type: 'pstn', number: '918000000002' }]);
              // First with a refused token (the error reaches the tool), then with the right one.
              restAttempts++;
              await badRest.voice.transfer(call.callId, pipeline).then(
                () => expect.unreachable('a wrong REST token must be refused'),
                (error: unknown) => surfaced.push(describeError(error)),
              );
              await goodRest.voice.transfer(call.callId, pipeline);
              return 'ok';
            },
          );
          await voice.action({
            stt: new ScriptedSTTService({ transcripts: ['transfer me', 'transfer me now', 'please transfer me'] }),
            llm: new OpenAILLMService({ apiKey: SECRETS.OPENAI_API_KEY, baseURL: openai.baseURL }),
            tts: new FakeTTSService({ msPerCharacter: 5 }),
            vad: new EnergyVAD(),
          });
          await voice.start();
        },
      });
      agents.push(agent);
      await agent.connect();
      const call = sim.placeCall({ agentId: 'agent-secrets', metadata: { note: 'hello' } });
      extraSecrets.push(call.mediaToken);
      await call.answered;
      for (let i = 0; i < 3 && !call.isEnded; i++) {
        await call.say(speechTone(400)).catch(() => undefined);
        await sleep(700);
      }
      const end = await Promise.race([call.ended, sleep(10_000).then(() => undefined)]);
      expect(end?.reason).toBe('transferred');
      expect(restAttempts).toBe(1);
      expect(sim.restRequests.map((r) => r.path)).toEqual(['/v3/voice/pcmo/transfer', '/v3/voice/pcmo/transfer']);
      expectNoLeaks('Agent and REST');
    } finally {
      for (const agent of agents) await agent.shutdown({ drainMs: 0 });
      await openai.close();
      await sim.close();
    }
  }, 60_000);

  it('the stream server: refused connections and a call, logged without the token', async () => {
    const server = new PiopiyStreamServer({ authToken: SECRETS.STREAM_TOKEN, logger, onCall: () => sleep(100) });
    const url = await server.listen();
    try {
      const attempt = (target: string): Promise<number> =>
        new Promise((resolve) => {
          const socket = new WebSocket(target);
          socket.once('unexpected-response', (_req, res) => {
            resolve(res.statusCode ?? 0);
            socket.terminate();
          });
          socket.once('open', () => {
            resolve(101);
            socket.close();
          });
          socket.once('error', () => resolve(0));
        });
      expect(await attempt(url.replace(encodeURIComponent(SECRETS.STREAM_TOKEN), `${SECRETS.STREAM_TOKEN}x`))).toBe(401);
      expect(await attempt(url.replace(/\?.*$/, ''))).toBe(401);
      expect(await attempt(`${url}&call_id=c1`)).toBe(101);
      await sleep(300);
      expectNoLeaks('stream server');
    } finally {
      await server.close();
    }
  });

  it('the dev page and its socket hold neither the API keys from the environment nor the access token', async () => {
    const server = await startDevServer({ agentFile: null, port: 0, host: '127.0.0.1', requireToken: true });
    extraSecrets.push(server.token!);
    try {
      const cookie = `${(await fetch(server.url)).headers.get('set-cookie') ?? ''}`.split(';')[0]!;
      for (const path of ['/', '/app.js', '/audio-worklet.js', '/style.css', '/index.html']) {
        const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { cookie } });
        const body = await res.text();
        if (res.status === 200) expect(body.length).toBeGreaterThan(0);
        expect(leakIn(body), path).toBeUndefined();
      }
      const hello = await new Promise<string>((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { cookie } });
        socket.once('message', (data) => {
          resolve((data as Buffer).toString('utf8'));
          socket.close();
        });
        socket.once('error', reject);
      });
      expect(hello).toContain('"hello"');
      expect(leakIn(hello)).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
