#!/usr/bin/env node
import { formatFailure } from './errors.js';
import { createProgram } from './program.js';

const commandLine = ['piopiy-ai', ...process.argv.slice(2)].join(' ');
const fail = (error: unknown): never => {
  process.stderr.write(`${formatFailure(error, commandLine)}\n`);
  // Exit now: a failed agent may leave handles (threads, timers) that would keep the process waiting for nothing.
  process.exit(1);
};
// An agent file that calls `agent.connect()` without awaiting it fails here, not in parseAsync.
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);

const program = createProgram();
if (process.argv.length <= 2) program.help();
try {
  await program.parseAsync();
} catch (error) {
  fail(error);
}
// A finished demo leaves nothing to wait for; exit even if a library keeps a handle open.
if (process.argv[2] === 'demo') process.exit(process.exitCode ?? 0);
