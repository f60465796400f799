// `piopiy-ai demo` (its default media, `--media livekit`): the seed call end to end over the production media path — Agent →
// LiveKitTransport → @livekit/rtc-node → the LiveKit test server (real WebRTC on loopback) ← the simulated caller,
// a second rtc-node participant. The CLI in a child process, offline engines; the JSON summary is the last line.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavFile } from '../../src/audio/index.js';
import type { DemoResult } from '../../src/cli/demo.js';

const hasPocketsphinx = existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, PIOPIY_OFFLINE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('piopiy-ai demo (default: --media livekit)', () => {
  it.skipIf(!hasPocketsphinx)('runs the seed call over real WebRTC through the LiveKit test server [needs pocketsphinx]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piopiy-demo-livekit-test-'));
    const { code, stdout, stderr } = await runCli(['demo', '--json', '--recording-dir', dir]);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    // With --json stdout is the summary alone: rtc-node's own debug logger (to stdout) is quieted in the demo.
    expect(lines, stdout).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as DemoResult;
    expect(result.ok).toBe(true);
    expect(result.media).toBe('livekit'); // the CLI's default
    expect(result.transferredTo).toBe('918000000002');
    expect(result.toolCalls.map((t) => t.name)).toEqual(['transfer_call']);
    expect(result.turns[0]).toMatchObject({ role: 'assistant', text: 'Hello! How can I help you today?' });
    // What the agent heard of the caller went through Opus both ways and rtc-node's resampling.
    const user = result.turns.find((t) => t.role === 'user');
    expect(user?.role === 'user' ? user.heard : null).toMatch(/human/);
    expect(result.latency.voiceToVoiceMs).toHaveLength(1);
    const wav = await readWavFile(result.recording!);
    expect(wav.channels).toBe(2);
    expect(wav.samples.length / 2 / wav.sampleRate).toBeGreaterThan(3);
    // rtc-node refused no audio chunk (each capture waits for the previous one).
    expect(stderr).not.toContain('captureFrame failed');
  }, 60_000);
});
