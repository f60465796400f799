#!/usr/bin/env node
import { createProgram } from './program.js';

const program = createProgram();
if (process.argv.length <= 2) program.help();
await program.parseAsync();
