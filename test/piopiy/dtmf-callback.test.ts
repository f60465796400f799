// The legacy DTMF callback of PCMO input actions: the body as the docs show it (both spellings of the call id),
// strict checks naming the bad field, and the request handler on a real node:http server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.js';
import { PiopiyValidationError, dtmfCallbackHandler, parseDtmfCallback, type PiopiyDtmfResult } from '../../src/piopiy/index.js';

describe('parseDtmfCallback', () => {
  it("reads the docs' sample (numbers, the cmuuid spelling) and the table's (cmiuuid, strings)", () => {
    expect(parseDtmfCallback({ from: 919100000000, to: 4471000000, dtmf: '1234', cmuuid: '41aa4bb1-d693-415e-82ce-bdf2e8814aeb' })).toEqual({
      callId: '41aa4bb1-d693-415e-82ce-bdf2e8814aeb',
      from: '919100000000',
      to: '4471000000',
      digits: '1234',
    });
    expect(parseDtmfCallback({ from: '+919100000000', to: '4471000000', dtmf: '*9#', cmiuuid: 'c1' })).toMatchObject({ digits: '*9#', from: '+919100000000' });
    expect(parseDtmfCallback({ from: 1, to: 2, dtmf: '', cmiuuid: 'c1' }).digits).toBe(''); // nothing pressed
    expect(parseDtmfCallback({ from: 1, to: 2, dtmf: 42, cmiuuid: 'c1' }).digits).toBe('42');
  });

  it('refuses what is not a DTMF result, naming the field', () => {
    const bad = (body: unknown): string | undefined => {
      try {
        parseDtmfCallback(body);
      } catch (error) {
        expect(error).toBeInstanceOf(PiopiyValidationError);
        return (error as PiopiyValidationError).field;
      }
      return undefined;
    };
    expect(bad([])).toBe('body');
    expect(bad(null)).toBe('body');
    expect(bad({ from: 1, to: 2, dtmf: '1' })).toBe('cmiuuid');
    expect(bad({ from: 1, to: 2, dtmf: '12x', cmiuuid: 'c' })).toBe('dtmf');
    expect(bad({ from: 1, to: 2, dtmf: '1'.repeat(65), cmiuuid: 'c' })).toBe('dtmf');
    expect(bad({ from: 1, to: 2, dtmf: -1, cmiuuid: 'c' })).toBe('dtmf');
    expect(bad({ from: 'alice', to: 2, dtmf: '1', cmiuuid: 'c' })).toBe('from');
    expect(bad({ from: 1, dtmf: '1', cmiuuid: 'c' })).toBe('to');
  });
});

describe('dtmfCallbackHandler', () => {
  let server: Server | undefined;

  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  async function serve(onResult: (result: PiopiyDtmfResult) => unknown): Promise<string> {
    server = createServer(dtmfCallbackHandler(onResult, { logger: silentLogger }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/dtmf`;
  }

  it('hands the checked result to the listener; answers its JSON with 200, or 204 when it returns nothing', async () => {
    const seen: PiopiyDtmfResult[] = [];
    const url = await serve((result) => {
      seen.push(result);
      return result.digits === '1' ? [{ action: 'hangup' }] : undefined;
    });
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const next = await post({ from: 919100000000, to: 4471000000, dtmf: '1', cmiuuid: 'call-1' });
    expect(next.status).toBe(200);
    expect(await next.json()).toEqual([{ action: 'hangup' }]);
    const none = await post({ from: 919100000000, to: 4471000000, dtmf: '22', cmiuuid: 'call-1' });
    expect(none.status).toBe(204);
    expect(seen.map((r) => r.digits)).toEqual(['1', '22']);
  });

  it('400 for a bad body (with the field), 405 for other methods, 413 for a huge body, 500 when the listener fails', async () => {
    let calls = 0;
    const url = await serve(() => {
      calls++;
      throw new Error('database down');
    });
    const bad = await fetch(url, { method: 'POST', body: '{"from":1,"to":2,"dtmf":"1x","cmiuuid":"c"}' });
    expect(bad.status).toBe(400);
    const refusal = (await bad.json()) as { error: string; field: string };
    expect(refusal.field).toBe('dtmf');
    expect(refusal.error).toMatch(/dtmf must be the keys pressed/);
    const notJson = await fetch(url, { method: 'POST', body: 'dtmf=1' });
    expect(notJson.status).toBe(400);
    expect((await fetch(url)).status).toBe(405);
    const huge = await fetch(url, { method: 'POST', body: 'x'.repeat(20_000) }).catch(() => undefined);
    if (huge !== undefined) expect(huge.status).toBe(413); // or the connection was cut while sending: either refuses it
    const failing = await fetch(url, { method: 'POST', body: '{"from":1,"to":2,"dtmf":"1","cmiuuid":"c"}' });
    expect(failing.status).toBe(500);
    expect(calls).toBe(1);
  });
});
