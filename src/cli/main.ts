#!/usr/bin/env node
import { createProgram } from './program.js';

const program = createProgram();
if (process.argv.length <= 2) program.help();
await program.parseAsync();
// A finished demo leaves nothing to wait for; exit even if a library keeps a handle open.
if (process.argv[2] === 'demo') process.exit(process.exitCode ?? 0);
