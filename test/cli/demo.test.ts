// `piopiy-ai demo` as a newcomer runs it: the CLI in a child process, the transfer example through the real
// Agent against the local simulator, offline engines, one simulated call; the JSON summary is the last line.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavFile } from '../../src/audio/index.js';
import type { DemoResult } from '../../src/cli/demo.js';
import { readmeSnippet } from '../support/readme.js';
import { sideBySide } from '../support/side-by-side.js';

const hasPocketsphinx = existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin');

// The runs are independent processes, each mostly a call in real time: two at a time. A test's timeout also covers
// its wait for a turn (up to two runs of 20-40 s on a loaded machine).
const twoAtATime = sideBySide(2);

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return twoAtATime(() => new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, PIOPIY_OFFLINE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  }));
}

describe.concurrent('piopiy-ai demo', () => {
  it.skipIf(!hasPocketsphinx)('transfers the simulated call end to end and prints the JSON summary last [needs pocketsphinx]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piopiy-demo-test-'));
    // The stream path here (the WebRTC default runs in test/slow/demo-livekit.test.ts): what this checks is the
    // demo's output, on the lighter path.
    const { code, stdout, stderr } = await runCli(['demo', '--media', 'stream', '--json', '--recording-dir', dir]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines.at(-1)!) as DemoResult;
    expect(lines).toHaveLength(1); // with --json, stdout carries only the summary
    expect(result.ok).toBe(true);
    expect(result.media).toBe('stream');
    expect(result.transferredTo).toBe('918000000002');
    expect(result.toolCalls.map((t) => t.name)).toEqual(['transfer_call']);
    expect(result.restRequests).toEqual([
      {
        method: 'POST',
        path: '/v3/voice/pcmo/transfer',
        body: {
          call_id: result.callId,
          pipeline: [
            { action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] },
          ],
        },
      },
    ]);
    expect(result.expected).toEqual({ transfer: true, interruption: false });
    expect(result.turns[0]).toMatchObject({ role: 'assistant', text: 'Hello! How can I help you today?', interrupted: false });
    // The caller's line, and what the agent heard of it (its own transcript): it asked for a human, so it was heard.
    const user = result.turns.find((t) => t.role === 'user');
    expect(user).toMatchObject({ role: 'user', said: 'I want to talk to a human please' });
    expect(user?.role === 'user' ? user.heard : null).toMatch(/human/);
    // The last answer is what the caller heard of the tool's sentence before the platform took the call over: more
    // than its first sentence (the sentence playing at the transfer counts as far as it was played).
    const last = result.turns.at(-1);
    expect(last).toMatchObject({ role: 'assistant', interrupted: false });
    expect(last?.role === 'assistant' ? last.text : '').toMatch(/^Of course\. I am connecting/);
    expect(result.latency.voiceToVoiceMs).toHaveLength(1);
    expect(result.latency.voiceToVoiceMs[0]).toBeGreaterThan(0);
    expect(result.recording).toBe(join(dir, `${result.callId}.wav`));
    const wav = await readWavFile(result.recording!);
    expect(wav.channels).toBe(2);
    expect(wav.samples.length / 2 / wav.sampleRate).toBeGreaterThan(3);
    // The transcript (on stderr with --json) shows both sides.
    expect(stderr).toContain('caller: I want to talk to a human please');
    expect(stderr).toContain('agent:  Hello! How can I help you today?');
    expect(stderr).toContain(`recording: ${result.recording}`);
    // The README's sample output shows the kinds of line this run printed, in the same shape.
    for (const line of readmeSnippet('demo-output').split('\n').filter((l) => l.trim() !== '')) {
      const shape = /^(\[\d+\.\ds\] \w+: +|\s+\(voice-to-voice |recording: |transferred to )/.exec(line);
      expect(shape, `README demo-output line: ${line}`).not.toBeNull();
      expect(stderr).toMatch(new RegExp(`^${shape![1]!.replace(/[[\]().\\]/g, '\\$&').replace(/\d+/g, '\\d+')}`, 'm'));
    }
  }, 120_000);

  it('fails with the reason and exit code 1 when no call took place, and names no recording', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piopiy-demo-test-'));
    const { code, stdout, stderr } = await runCli(['demo', '--agent', 'test/cli/fixtures/broken-agent.ts', '--media', 'stream', '--json', '--recording-dir', dir]);
    expect(code, stderr).toBe(1);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as DemoResult;
    expect(result).toMatchObject({ ok: false, reason: 'this agent file fails on purpose', callId: null, recording: null, turns: [] });
    expect(stderr).toContain('demo failed: this agent file fails on purpose');
    expect(`${stdout}${stderr}`).not.toContain('recording:');
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);

  it.each(['openai', 'gemini'])('--realtime %s: the call runs through the speech-to-speech agent against the fake, offline, and transfers', async (model) => {
    const dir = mkdtempSync(join(tmpdir(), 'piopiy-demo-realtime-'));
    const { code, stdout, stderr } = await runCli(['demo', '--realtime', model, '--media', 'stream', '--json', '--recording-dir', dir]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('examples/realtime-agent.ts');
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as DemoResult;
    expect(result.ok).toBe(true);
    expect(result.transferredTo).toBe('918000000002');
    expect(result.toolCalls.map((t) => t.name)).toEqual(['transfer_call']);
    expect(result.turns[0]).toMatchObject({ role: 'assistant', text: 'Hello! How can I help you today?' });
    expect(result.turns.find((t) => t.role === 'user')).toMatchObject({ said: 'I want to talk to a human please', heard: 'I want to talk to a human please' });
    expect(result.latency.voiceToVoiceMs).toHaveLength(1);
  }, 120_000);
});
