// The SSE request's watchdog runs on the caller's clock: a VirtualClock decides when a silent server is cut.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamServerSentEvents } from '../../../src/services/base/http-stream.js';
import { ServiceError } from '../../../src/services/base/service-error.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { waitUntil } from '../../support/wait.js';

let server: Server;
let url: string;
let requests = 0;
beforeEach(async () => {
  requests = 0;
  // Sends the headers and one event, then nothing: a stalled stream.
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"n":1}\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('streamServerSentEvents', () => {
  it('cuts a silent server after timeoutMs on the clock it is given, not on the wall clock', async () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    let failure: unknown;
    const reading = (async () => {
      try {
        const stream = streamServerSentEvents({
          service: 'Vendor',
          url,
          headers: {},
          body: {},
          signal: new AbortController().signal,
          timeoutMs: 60_000,
          secrets: [],
          httpError: () => new ServiceError('Vendor', 'refused'),
          clock,
        });
        for await (const event of stream) events.push(event.data);
      } catch (error) {
        failure = error;
      }
    })();
    await waitUntil(() => events.length === 1, 5000);
    // A minute of silence passes in no time; one millisecond short of it, nothing happens.
    await clock.advance(59_999);
    expect(failure).toBeUndefined();
    await clock.advance(1);
    await reading;
    expect(failure).toBeInstanceOf(ServiceError);
    expect(failure).toMatchObject({ code: 'timeout', retryable: true, message: 'Vendor: no data for 60000 ms' });
    expect(requests).toBe(1);
  });
});
