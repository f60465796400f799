// The CLI's "known error -> message" logic and the agent-file checks, without a child process.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentFilePath, moduleFormatOf, notEsmError } from '../../src/cli/agent-file.js';
import { AgentFileError, CliError, formatFailure, knownErrorMessage } from '../../src/cli/errors.js';
import { PiopiyApiError, PiopiyNetworkError, PiopiyValidationError } from '../../src/piopiy/rest/errors.js';
import { SignalingConnectionError } from '../../src/agent/signaling-error.js';
import { ConfigurationError } from '../../src/runtime/configuration-error.js';

describe('formatFailure', () => {
  const command = 'piopiy-ai start agent.ts';

  it('prints a known error as its message alone', () => {
    const config = new ConfigurationError('Agent', [{ variable: 'AGENT_ID', option: 'agentId', purpose: 'the id', problem: 'missing' }]);
    expect(formatFailure(config, command)).toBe(config.message);
    const xhr = { readyState: 4, status: 0, responseText: '', statusText: new Error('getaddrinfo ENOTFOUND x') };
    const signaling = new SignalingConnectionError('Agent: could not reach Piopiy signaling at http://x: getaddrinfo ENOTFOUND x', {
      failure: 'unreachable',
      url: 'http://x',
      cause: Object.assign(new Error('xhr poll error'), { type: 'TransportError', description: 0, context: xhr }),
    });
    expect(formatFailure(signaling, command)).toBe(signaling.message);
    expect(formatFailure(new CliError('--port must be a port number (0 to 65535), got x'), command)).toBe(
      '--port must be a port number (0 to 65535), got x',
    );
  });

  it('recognises errors from another copy of the package by name', () => {
    class ConfigurationError extends Error {
      override name = 'ConfigurationError';
    }
    expect(knownErrorMessage(new ConfigurationError('Agent: 1 setting is missing:'))).toBe('Agent: 1 setting is missing:');
  });

  it('says which REST request failed and how', () => {
    expect(knownErrorMessage(new PiopiyValidationError('Missing required field(s): to_number', 'body'))).toBe(
      'Piopiy REST API request not sent: Missing required field(s): to_number',
    );
    const network = new PiopiyNetworkError({
      message: 'POST /voice/ai/call: could not connect to the Piopiy API (ENOTFOUND); the request was not sent.',
      failure: 'connect',
      method: 'POST',
      path: '/voice/ai/call',
    });
    expect(knownErrorMessage(network)).toBe(`Piopiy REST API: ${network.message}`);
    const api = new PiopiyApiError({
      message: 'Invalid token',
      status: 401,
      code: undefined,
      requestId: undefined,
      retryAfterSecs: undefined,
      payload: {},
      method: 'POST',
      path: '/voice/ai/call',
    });
    expect(knownErrorMessage(api)).toBe('Piopiy REST API: POST /voice/ai/call failed with HTTP 401: Invalid token');
  });

  it('prints anything else with a line naming the command, then the stacks of the error and its causes only', () => {
    const cause = Object.assign(new Error('socket hang up'), { context: { huge: 'x'.repeat(10_000) } });
    const bug = new TypeError('boom', { cause });
    const text = formatFailure(bug, command);
    const lines = text.split('\n');
    expect(lines[0]).toBe('piopiy-ai start agent.ts failed with an unexpected error (a bug in the agent file or in piopiy-ai); its stack:');
    expect(lines[1]).toBe('TypeError: boom');
    expect(lines[2]).toMatch(/^ {4}at /);
    expect(lines).toContain('caused by: Error: socket hang up');
    expect(text).not.toContain('xxxxxxxxxx');
    expect(formatFailure('a string', command).split('\n')[1]).toBe("'a string'");
  });
});

describe('agent file checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'piopiy-agent-file-'));
    mkdirSync(join(dir, 'esm', 'src'), { recursive: true });
    writeFileSync(join(dir, 'esm', 'package.json'), '{"type":"module"}');
    mkdirSync(join(dir, 'cjs'), { recursive: true });
    writeFileSync(join(dir, 'cjs', 'package.json'), '{"name":"x"}');
    writeFileSync(join(dir, 'cjs', 'agent.ts'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the module format as Node does: the extension, else the nearest package.json', () => {
    expect(moduleFormatOf(join(dir, 'esm', 'src', 'agent.ts'))).toEqual({ type: 'module', reason: 'package', packageJson: join(dir, 'esm', 'package.json') });
    expect(moduleFormatOf(join(dir, 'cjs', 'agent.js'))).toEqual({ type: 'commonjs', reason: 'package', packageJson: join(dir, 'cjs', 'package.json') });
    expect(moduleFormatOf(join(dir, 'cjs', 'agent.mts'))).toEqual({ type: 'module', reason: 'extension' });
    expect(moduleFormatOf(join(dir, 'esm', 'agent.cts'))).toEqual({ type: 'commonjs', reason: 'extension' });
  });

  it('explains a CommonJS load failure with what to change, and leaves other failures alone', () => {
    const asyncModule = Object.assign(new Error('Transform failed with 1 error: Top-level await is currently not supported with the "cjs" output format'), {
      code: 'ERR_REQUIRE_ASYNC_MODULE',
    });
    const cjsFile = join(dir, 'cjs', 'agent.ts');
    const error = notEsmError(asyncModule, cjsFile, 'agent.ts');
    expect(error).toBeInstanceOf(AgentFileError);
    expect(error?.problem).toBe('not-esm');
    expect(error?.cause).toBe(asyncModule);
    expect(error?.message).toBe(
      `agent.ts is loaded as CommonJS, where top-level await (\`await agent.connect()\`) and piopiy-ai (an ES module) cannot run: add "type": "module" to ${join(dir, 'cjs', 'package.json')}.`,
    );
    const cycle = Object.assign(new Error(`Cannot require() ES Module ${cjsFile} in a cycle.`), { code: 'ERR_REQUIRE_CYCLE_MODULE' });
    expect(notEsmError(cycle, cjsFile, 'agent.ts')?.problem).toBe('not-esm');
    expect(notEsmError(cycle, join(dir, 'esm', 'agent.cts'), 'agent.cts')?.message).toMatch(/cannot run: rename it to agent\.mts\.$/);
    // the same failure in an ES module package is something else; so is any other error in a CommonJS one
    expect(notEsmError(cycle, join(dir, 'esm', 'src', 'agent.ts'), 'agent.ts')).toBeUndefined();
    expect(notEsmError(new SyntaxError('Unexpected token'), cjsFile, 'agent.ts')).toBeUndefined();
  });

  it('a missing file: where it was looked for', () => {
    expect(() => agentFilePath('no-such-agent.ts')).toThrow(
      `agent file not found: no-such-agent.ts (looked for ${join(process.cwd(), 'no-such-agent.ts')}). Check the path; it is relative to the folder you run piopiy-ai in.`,
    );
    expect(agentFilePath(join(dir, 'cjs', 'agent.ts'))).toBe(join(dir, 'cjs', 'agent.ts'));
  });
});
