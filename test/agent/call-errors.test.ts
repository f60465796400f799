// Calls isolated from each other's bugs. An error nothing catches in one call's code ends that call (logged once with
// its id, the caller hears the goodbye) and nothing else; an error outside every call meets Node's default exactly.
// Each case runs test/agent/fixtures/call-errors-program.ts in a process of its own: vitest's own process-level
// handlers would otherwise catch what the test is about.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ANSWER, ERROR_GOODBYE, FAULTS, type ProgramReport } from './fixtures/call-errors-shared.js';

const PROGRAM = 'test/agent/fixtures/call-errors-program.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runProgram(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROGRAM, ...args], { env: { ...process.env, NODE_OPTIONS: undefined } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function report(run: Run): ProgramReport {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ProgramReport;
}

/** The three bad calls end with the goodbye after their answer; the seventeen others are untouched. */
function expectIsolated(result: ProgramReport): void {
  const good = result.calls.filter((c) => c.fault === null);
  const bad = result.calls.filter((c) => c.fault !== null);
  expect(good).toHaveLength(17);
  for (const call of good) expect([call.assistantTurns, call.end]).toEqual([['Hello.', ANSWER], 'caller-hangup']);
  expect(bad.map((c) => c.fault).sort()).toEqual([...FAULTS].sort());
  for (const call of bad) expect([call.fault, call.assistantTurns, call.end]).toEqual([call.fault, ['Hello.', ANSWER, ERROR_GOODBYE], 'agent-left']);
  // Logged once each, with the call's id and the error; nothing else logged at error level.
  const byCall = new Map(bad.map((c) => [c.callId, c.fault]));
  expect(result.errors.map((e) => [byCall.get(e.callId as string), e.err, e.message]).sort()).toEqual(
    [
      ['floating-rejection', 'a promise nobody awaited'],
      ['timer-throw', 'thrown from a timer'],
      ['unawaited-transfer-refused', 'unauthorized'],
    ].map(([fault, err]) => [fault, err, 'uncaught error in this call: ending it (other calls go on)']),
  );
}

describe('Agent: calls isolated from each other\'s bugs', () => {
  it('20 calls, 3 with an error nothing catches in a tool: those 3 end with a goodbye, 17 go on, the process lives', async () => {
    const [plain, withHandlers] = await Promise.all([runProgram('calls'), runProgram('calls', '--user-handlers')]);
    const result = report(plain);
    expectIsolated(result);
    expect(result.userHandlers).toEqual([]);
    // With the program's own handlers: the same isolation. The rejections reach their 'unhandledRejection' handler
    // too (Node hands those to them, not to the Agent); the timer's exception does not reach theirs: it was caught.
    const handled = report(withHandlers);
    expectIsolated(handled);
    expect(handled.userHandlers.map((h) => `${h.event}: ${h.message}`).sort()).toEqual([
      'unhandledRejection: a promise nobody awaited',
      'unhandledRejection: unauthorized',
    ]);
  }, 90_000);

  it("an error outside every call meets Node's default exactly, as without the Agent", async () => {
    const modes = ['outside-throw', 'outside-reject'] as const;
    const runs = await Promise.all(modes.flatMap((mode) => [runProgram(mode), runProgram(mode, '--no-isolation')]));
    for (const [i, mode] of modes.entries()) {
      const [isolated, plain] = [runs[2 * i]!, runs[2 * i + 1]!];
      // The process dies: exit code 1, the error printed by Node itself, the same bytes with and without the Agent.
      expect([mode, isolated.code, isolated.stdout]).toEqual([mode, 1, 'call done\n']);
      expect(isolated.stderr).toContain(mode === 'outside-throw' ? 'Error: outside any call' : 'Error: rejected outside any call');
      expect(isolated.stderr).toMatch(/\nNode\.js v\d+\.\d+\.\d+\n$/);
      expect({ code: isolated.code, stderr: isolated.stderr }).toEqual({ code: plain.code, stderr: plain.stderr });
    }
  }, 90_000);

  it('an error outside every call goes to the program\'s own handlers, as without the Agent', async () => {
    const [thrown, rejected] = await Promise.all([
      runProgram('outside-throw', '--user-handlers'),
      runProgram('outside-reject', '--user-handlers'),
    ]);
    expect([thrown.code, thrown.stderr, thrown.stdout]).toEqual([
      0,
      '',
      `call done\nstill alive ${JSON.stringify([{ event: 'uncaughtException', message: 'outside any call' }])}\n`,
    ]);
    expect([rejected.code, rejected.stderr, rejected.stdout]).toEqual([
      0,
      '',
      `call done\nstill alive ${JSON.stringify([{ event: 'unhandledRejection', message: 'rejected outside any call' }])}\n`,
    ]);
  }, 90_000);
});
