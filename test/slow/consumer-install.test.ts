// A user's install, for real: the packed tarball installed with npm into an empty project that has no .npmrc and
// runs with none of npm's or onnxruntime's settings in its environment (the repository's own must not leak in),
// then a script that imports `piopiy-ai` and runs Silero VAD over a second of Flite speech at both rates. The
// install must succeed without reaching anything but the npm registry (this machine reaches nothing else), and
// nothing may have been downloaded beside the packages: no onnxruntime execution-provider libraries.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'piopiy-consumer-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The environment of a user's shell: ours without npm's settings (npm exports them to scripts) or onnxruntime's. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|onnxruntime)/i.test(key)));
}

const SCRIPT = `
import { SileroVADAnalyzer } from 'piopiy-ai';
import { concatAudio, silence, synthesizeSpeech } from 'piopiy-ai/testing';
for (const sampleRate of [16000, 8000]) {
  const speech = await synthesizeSpeech('Hello, I would like to talk to a human please', { sampleRate });
  const audio = concatAudio(silence(300, sampleRate), speech.subarray(0, sampleRate), silence(600, sampleRate));
  const vad = await SileroVADAnalyzer.load({ sampleRate });
  const states = [];
  for (let i = 0; i < audio.length; i += sampleRate / 50) {
    const state = await vad.analyze(audio.subarray(i, i + sampleRate / 50));
    if (states.at(-1) !== state) states.push(state);
  }
  console.log(JSON.stringify({ sampleRate, runtime: vad.runtime, states }));
}
`;

function filesNamed(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => pattern.test(path));
}

it('installs from the tarball with no npm config and runs Silero VAD', () => {
  const env = cleanEnvironment();
  const run = (command: string, args: string[], cwd: string): string =>
    execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

  // `npm pack` builds first (prepack) and prints the tarball's name last.
  const tarball = join(work, run('npm', ['pack', '--pack-destination', work], root).trim().split('\n').at(-1)!);
  const project = join(work, 'project');
  run('mkdir', ['-p', project], work);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);

  writeFileSync(join(project, 'vad.js'), SCRIPT);
  const lines = run(process.execPath, ['vad.js'], project)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { sampleRate: number; runtime: string; states: string[] });
  expect(lines.map((line) => [line.sampleRate, line.runtime])).toEqual([
    [16000, 'onnxruntime-node'],
    [8000, 'onnxruntime-node'],
  ]);
  for (const { states } of lines) {
    // Quiet, speaking during the words (a pause between two words may go quiet in between), quiet after them.
    expect(states[0]).toBe('quiet');
    expect(states).toContain('speaking');
    expect(states.at(-1)).toBe('quiet');
  }
  expect(filesNamed(join(project, 'node_modules'), /libonnxruntime_providers_/)).toEqual([]);
}, 600_000);
