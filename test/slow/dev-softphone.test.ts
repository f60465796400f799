// `piopiy-ai dev` in a real browser: the CLI in a child process (the transfer example, offline engines, the
// local simulator), Debian's Chromium headless driven by playwright-core, its fake microphone playing a WAV of a
// caller asking for a human (Chromium loops the file: it starts with silence so the greeting plays first).
// The page must connect, play the greeting (agent audio frames reach the page), show what the agent heard
// (pocketsphinx), the tool call and then the transfer REST request it made (in the order they happened, though the
// tool is reported when it returns), and end the call as transferred, shown as a success (green), not an error. A
// screenshot of the page is saved to test/slow/artifacts/dev-softphone.png for review.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWavFile } from '../../src/audio/index.js';
import { startDevServer } from '../../src/cli/dev.js';
import { concatAudio, silence, synthesizeSpeech } from '../../src/testing/speech.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const hasChromium = existsSync(CHROMIUM);
const hasPocketsphinx = existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin');
const root = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));

/** What the page exposes as `window.piopiyDev`. */
interface PageState {
  stats: { wsOpen: boolean; micFrames: number; agentFrames: number; agentSpeechFrames: number; agentFramesPlayed: number };
  agentState: string;
  callState: string;
  callId: string | null;
  endReason?: string;
  endState?: string;
  transcript: { role: string; text: string; interrupted: boolean; t: number; seq: number }[];
  events: { kind: string; t: number; seq: number; head: string; detail: string; status?: number }[];
  latency: { label: string; voiceToVoiceMs: number | null; ttfb: Record<string, number> }[];
  errors: string[];
}

let cli: ChildProcessWithoutNullStreams | undefined;
let browser: Browser | undefined;
let tmp: string | undefined;
let cliOutput = '';

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  if (cli !== undefined && cli.exitCode === null) {
    const exited = new Promise((r) => cli!.once('exit', r));
    cli.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (cli.exitCode === null) cli.kill('SIGKILL');
  }
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

/** Starts `piopiy-ai dev --port 0` and resolves with the URL it prints. */
function startCli(): Promise<string> {
  cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dev', '--port', '0'], {
    cwd: root,
    env: { ...process.env, PIOPIY_OFFLINE: '1', PIOPIY_LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`piopiy-ai dev printed no URL:\n${cliOutput}`)), 60_000);
    cli!.stderr.on('data', (d: Buffer) => (cliOutput += d.toString()));
    cli!.stdout.on('data', (d: Buffer) => {
      cliOutput += d.toString();
      const url = /open (http:\/\/\S+)/.exec(cliOutput)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    cli!.once('exit', (code) => reject(new Error(`piopiy-ai dev exited with ${code}:\n${cliOutput}`)));
  });
}

describe('piopiy-ai dev in headless Chromium', () => {
  it.skipIf(!hasChromium || !hasPocketsphinx)(
    'calls the transfer agent from the page: greeting heard, caller transcribed, transfer requested [needs chromium, pocketsphinx]',
    async () => {
      const t0 = performance.now();
      const timings: Record<string, number> = {};
      const mark = (name: string): void => void (timings[name] = Math.round(performance.now() - t0));

      tmp = mkdtempSync(join(tmpdir(), 'piopiy-dev-softphone-'));
      const wav = join(tmp, 'caller.wav');
      const rate = 48000;
      const speech = await synthesizeSpeech('I want to talk to a human please', { sampleRate: rate });
      // 4 s of silence (the greeting), the request, then a long silence: the transfer is over before the loop.
      await writeWavFile(wav, { sampleRate: rate, channels: 1, samples: concatAudio(silence(4000, rate), speech, silence(16_000, rate)) });

      const urlPromise = startCli();
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          ...CHROMIUM_ARGS,
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
          `--use-file-for-fake-audio-capture=${wav}`,
          '--autoplay-policy=no-user-gesture-required',
        ],
      });
      const url = await urlPromise;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/); // loopback: no token
      mark('serverUp');
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      await context.grantPermissions(['microphone'], { origin: new URL(url).origin });
      const page = await context.newPage();
      const consoleLines: string[] = [];
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
      const state = (): Promise<PageState> => page.evaluate(() => (globalThis as unknown as { piopiyDev: PageState }).piopiyDev);
      const waitFor = async (what: string, predicate: (s: PageState) => boolean, timeoutMs: number): Promise<PageState> => {
        const deadline = performance.now() + timeoutMs;
        for (;;) {
          const s = await state();
          if (predicate(s)) {
            mark(what);
            return s;
          }
          if (performance.now() > deadline) {
            throw new Error(`timed out waiting for ${what}\npage: ${JSON.stringify(s, null, 1)}\nconsole:\n${consoleLines.join('\n')}\ncli:\n${cliOutput}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      };

      await page.goto(url);
      // The page connects; the agent (models and all) becomes ready.
      await waitFor('connected', (s) => s.stats.wsOpen, 10_000);
      await waitFor('agentReady', (s) => s.agentState === 'ready', 60_000);
      expect(await page.locator('#call').isEnabled()).toBe(true);
      expect(await page.locator('#hangup').isEnabled()).toBe(false);

      await page.locator('#call').click();
      await waitFor('answered', (s) => s.callState === 'answered', 15_000);
      expect(await page.locator('#hangup').isEnabled()).toBe(true);
      // The greeting is heard: audible agent frames reach the page (and its playback worklet).
      const greeted = await waitFor('greetingHeard', (s) => s.stats.agentSpeechFrames >= 25, 10_000);
      expect(greeted.stats.agentFramesPlayed).toBeGreaterThan(0);
      await waitFor('greetingText', (s) => s.transcript.some((t) => t.role === 'assistant'), 10_000);
      // The fake microphone's request is streamed, heard and transcribed.
      const heard = await waitFor('userTranscribed', (s) => s.transcript.some((t) => t.role === 'user'), 30_000);
      expect(heard.stats.micFrames).toBeGreaterThan(100);
      // The tool runs and its REST request to the platform shows up as it happens.
      // On a busy machine the browser's audio can be starved and the request misheard; the fake microphone's file
      // then loops (about 20 s) and the caller says it again, as a person would: that second try is allowed.
      await waitFor('transferRequested', (s) => s.events.some((e) => e.kind === 'rest' && e.head.includes('/transfer')), 45_000);
      const final = await waitFor('callEnded', (s) => s.callState === 'ended', 20_000);
      await page.waitForTimeout(300);
      mkdirSync(artifacts, { recursive: true });
      const screenshot = join(artifacts, 'dev-softphone.png');
      await page.screenshot({ path: screenshot, fullPage: true });

      const userLines = final.transcript.filter((t) => t.role === 'user').map((t) => t.text);
      const greeting = final.transcript.find((t) => t.role === 'assistant')!;
      expect(greeting.text).toBe('Hello! How can I help you today?');
      expect(userLines.some((text) => /human/i.test(text)), JSON.stringify(userLines)).toBe(true);
      expect(final.events.find((e) => e.kind === 'tool')?.head).toMatch(/^transfer_call\(/);
      const rest = final.events.find((e) => e.kind === 'rest')!;
      expect(rest).toMatchObject({ head: 'POST /v3/voice/pcmo/transfer', status: 200 });
      expect(JSON.parse(rest.detail)).toMatchObject({ call_id: final.callId, pipeline: [{ action: 'connect', endpoints: [{ type: 'pstn', number: '918000000002' }] }] });
      expect(final.endReason).toBe('transferred to 918000000002');
      // The transfer is a success: a green "transferred to ..." badge, not the red of an error.
      expect(final.endState).toBe('transferred');
      const badge = page.locator('#call-state');
      expect(await badge.getAttribute('data-state')).toBe('transferred');
      expect(await badge.textContent()).toBe('transferred to 918000000002');
      // (Runs in the page: the function is sent as its source, so it names nothing from here.)
      const background = await badge.evaluate(
        (e) => (globalThis as unknown as { getComputedStyle(el: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor,
      );
      expect(background).toBe('rgb(206, 234, 214)');
      // In the order they happened: the tool call, then the REST request it made (listed and shown that way).
      expect(final.events.map((e) => e.kind).filter((k) => k === 'tool' || k === 'rest')).toEqual(['tool', 'rest']);
      const rows = await page.locator('#events li').all();
      expect(await Promise.all(rows.map((row) => row.getAttribute('class')))).toEqual(['tool', 'rest']);
      const tool = final.events.find((e) => e.kind === 'tool')!;
      expect(tool.t).toBeLessThan(rest.t);
      expect(tool.seq).toBeGreaterThan(rest.seq); // it arrived second
      const sorted = [...final.transcript].sort((a, b) => a.t - b.t || a.seq - b.seq);
      expect(final.transcript).toEqual(sorted);
      // What the caller heard of the agent's last words is reported as the call ends; it is shown before the end.
      expect(await page.locator('#transcript li').last().textContent()).toBe('call ended: transferred to 918000000002');
      // Per-turn latency: the reply to the caller was timed.
      const replyLatency = final.latency.find((row) => row.label !== 'greeting' && row.voiceToVoiceMs !== null)?.voiceToVoiceMs;
      expect(replyLatency).toBeGreaterThan(0);
      expect(await page.locator('#transcript li.user').count()).toBeGreaterThan(0);
      expect(await page.locator('#events li.rest').count()).toBe(1);
      // Nothing secret reached the page.
      const html = await page.content();
      expect(html).not.toMatch(/sim-[0-9a-f]{24}/);
      expect(consoleLines.filter((l) => l.startsWith('pageerror') || l.startsWith('error'))).toEqual([]);

      // A second call from the same page, hung up by the caller once the greeting plays.
      const framesBefore = final.stats.agentSpeechFrames;
      await page.locator('#call').click();
      await waitFor('secondAnswered', (s) => s.callState === 'answered' && s.callId !== final.callId, 15_000);
      await waitFor('secondGreeting', (s) => s.stats.agentSpeechFrames >= framesBefore + 10, 10_000);
      await page.locator('#hangup').click();
      const second = await waitFor('secondEnded', (s) => s.callState === 'ended', 10_000);
      expect(second.endReason).toBe('you hung up');
      expect(await page.locator('#call-state').getAttribute('data-state')).toBe('ended'); // neutral, not red
      expect(await page.locator('#call').isEnabled()).toBe(true);

      process.stderr.write(
        `dev-softphone: ${JSON.stringify({ timings, heard: userLines, replyLatencyMs: replyLatency, micFrames: final.stats.micFrames, agentFrames: final.stats.agentFrames, screenshot })}\n`,
      );
    },
    150_000,
  );

  it.skipIf(!hasChromium)('with the access token required, the page loads its assets and opens its socket only with the token [needs chromium]', async () => {
    const server = await startDevServer({ agentFile: null, port: 0, host: '127.0.0.1', requireToken: true });
    const { chromium } = await import('playwright-core');
    const tokenBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await tokenBrowser.newPage();
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });
      const bare = await page.goto(server.url.replace(/\?token=.*$/, ''));
      expect(bare?.status()).toBe(401);
      expect(await page.content()).not.toContain(server.token!);
      failed.length = 0;
      await page.goto(server.url);
      await page.waitForFunction(() => (globalThis as unknown as { piopiyDev?: PageState }).piopiyDev?.stats.wsOpen === true, undefined, { timeout: 10_000 });
      const state = await page.evaluate(() => (globalThis as unknown as { piopiyDev: PageState }).piopiyDev);
      expect(state.agentState).toBe('none');
      expect(failed).toEqual([]); // style.css, app.js, favicon: all carried the token (cookie)
      expect(await page.locator('#agent-state').textContent()).toBe('none');
    } finally {
      await tokenBrowser.close();
      await server.close();
    }
  });
});
