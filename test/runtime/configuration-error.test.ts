// ConfigurationError's message (one line per problem, what each setting is for) and its JSON log line (no stack).
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/index.js';
import { ConfigurationError, credentialProblem, describeValue, urlProblem } from '../../src/runtime/configuration-error.js';

describe('ConfigurationError', () => {
  it('says how many settings are missing or invalid, then one line each', () => {
    const error = new ConfigurationError('Agent', [
      { variable: 'AGENT_ID', option: 'agentId', purpose: "the AI agent's id", problem: 'missing' },
      { variable: 'PIOPIY_SIGNALING_URL', option: 'signalingUrl', purpose: 'the server', problem: 'invalid', detail: 'is not a URL: "x"' },
      { option: 'maxSessions', purpose: 'the most calls', problem: 'invalid', detail: 'must be an integer >= 1, got 0' },
    ]);
    expect(error.message).toBe(
      [
        'Agent: 1 setting is missing and 2 are invalid:',
        "  AGENT_ID — the AI agent's id (Agent option agentId): not set",
        '  PIOPIY_SIGNALING_URL — the server (Agent option signalingUrl): is not a URL: "x"',
        '  Agent option maxSessions — the most calls: must be an integer >= 1, got 0',
        "Set the variables in the environment (or in a .env file loaded with `import 'dotenv/config'`), or pass the options.",
      ].join('\n'),
    );
    // Without a missing variable, no advice about the environment.
    const invalid = new ConfigurationError('RestClient', [{ option: 'timeoutMs', purpose: 'one attempt', problem: 'invalid' }]);
    expect(invalid.message).toBe('RestClient: 1 setting is invalid:\n  RestClient option timeoutMs — one attempt: invalid');
    expect(invalid.name).toBe('ConfigurationError');
  });

  it('checks credentials and URLs without echoing a secret', () => {
    expect(credentialProblem('abc')).toBeUndefined();
    expect(credentialProblem(42)).toBe('must be a string, got number');
    expect(credentialProblem(' \n')).toBe('is blank (only spaces)');
    expect(credentialProblem('abc\n')).toBe('has spaces or a line break at its start or end');
    expect(urlProblem('https://signaling.piopiy.com', ['https:'])).toBeUndefined();
    expect(urlProblem('signaling.piopiy.com', ['https:'])).toBe('is not a URL: "signaling.piopiy.com"');
    expect(urlProblem('ftp://user:pw@host', ['https:', 'http:'])).toBe('must start with https:// or http://, got ftp://');
    expect(urlProblem(undefined, ['https:'])).toBe('must be a URL string, got undefined');
    expect([describeValue(0), describeValue('ten'), describeValue({}), describeValue(null)]).toEqual(['0', '"ten"', 'a value of type object', 'null']);
  });

  it('is logged as a JSON line without its stack; other errors keep theirs', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const config = new ConfigurationError('RestClient', [{ variable: 'PIOPIY_TOKEN', option: 'token', purpose: 'the token', problem: 'missing' }]);
    logger.error({ err: config }, 'createSession failed; this call ends');
    logger.error({ err: new Error('a bug') }, 'createSession failed; this call ends');
    const [configLine, bugLine] = lines.map((line) => JSON.parse(line) as { err: Record<string, unknown> });
    expect(configLine!.err.message).toBe(config.message);
    expect(configLine!.err.problems).toEqual(config.problems);
    expect(configLine!.err).not.toHaveProperty('stack');
    expect(bugLine!.err.stack).toMatch(/^Error: a bug\n {4}at /);
  });
});
