// `piopiy-ai demo --carrier twilio|exotel|plivo|telnyx|vonage`: the seed call through a fake carrier's media stream, with the offline engines.
// The calls run two at a time (each on its own servers and ports, each demo reading only its own agent's events): a
// call is mostly real-time waiting, 10 s each; more at once on a loaded machine delays packets past the jitter buffer.
// A test's timeout also covers its wait for a turn.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavFile } from '../../src/audio/index.js';
import { runCarrierDemo } from '../../src/cli/demo-carrier.js';
import { hasPocketsphinx } from '../examples/run-demo.js';
import { sideBySide } from '../support/side-by-side.js';

const twoAtATime = sideBySide(2);

describe.concurrent('demo --carrier twilio', () => {
  it.skipIf(!hasPocketsphinx)('transfers the caller who asks for a human, through Twilio’s REST API [needs pocketsphinx]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carrier-demo-'));
    try {
      const lines: string[] = [];
      const result = await twoAtATime(() => runCarrierDemo({ carrier: 'twilio', recordingDir: dir, out: (l) => lines.push(l), progress: () => undefined }));
      expect(result.ok, result.reason).toBe(true);
      expect(result.endReason).toBe('transferred');
      expect(result.transferredTo).toBe('+15550199999');
      expect(result.transcript[0]).toEqual({ role: 'assistant', text: 'Hello! How can I help you today?' });
      expect(result.transcript[1]).toEqual({ role: 'user', text: 'i want to talk to a human please' });
      expect(result.restRequests).toHaveLength(1);
      expect(result.restRequests[0]!.params.Twiml).toContain('<Dial><Number>+15550199999</Number></Dial>');
      expect(result.jitter!.receivedPackets).toBeGreaterThan(100);
      const wav = await readWavFile(result.recording!);
      expect(wav).toMatchObject({ sampleRate: 8000, channels: 2 });
      expect(lines.some((l) => l.includes('caller: I want to talk to a human please'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.concurrent('demo --carrier exotel', () => {
  it.skipIf(!hasPocketsphinx)('hands the caller who asks for a human to the flow’s Connect applet [needs pocketsphinx]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carrier-demo-'));
    try {
      const result = await twoAtATime(() => runCarrierDemo({ carrier: 'exotel', recordingDir: dir, out: () => undefined, progress: () => undefined }));
      expect(result.ok, result.reason).toBe(true);
      expect(result.endReason).toBe('transferred');
      expect(result.transferredTo).toBe('+15550199999');
      expect(result.transcript[1]).toEqual({ role: 'user', text: 'i want to talk to a human please' });
      expect(result.restRequests).toEqual([]); // Exotel: the stream closes and the call flow transfers
      // 100 ms packets: a few dozen over the call.
      expect(result.jitter!.receivedPackets).toBeGreaterThan(40);
      expect(await readWavFile(result.recording!)).toMatchObject({ sampleRate: 8000, channels: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// The carriers whose transfer is a REST request: the request that moved the caller, as each carrier's API takes it.
const REST_TRANSFERS = [
  { carrier: 'plivo', transferredTo: '15550199999', method: 'POST', path: /^\/v1\/Account\/\w+\/Call\/[\w-]+\/$/, param: ['aleg_url', '/plivo/transfer?to=%2B15550199999'], rate: 8000 },
  { carrier: 'telnyx', transferredTo: '+15550199999', method: 'POST', path: /^\/v2\/calls\/v2:\w+\/actions\/transfer$/, param: ['to', '+15550199999'], rate: 8000 },
  { carrier: 'vonage', transferredTo: '15550199999', method: 'PUT', path: /^\/v1\/calls\/[\w-]+$/, param: ['destination', '"number":"15550199999"'], rate: 16000 },
] as const;

describe.concurrent.each(REST_TRANSFERS)('demo --carrier $carrier', ({ carrier, transferredTo, method, path, param, rate }) => {
  it.skipIf(!hasPocketsphinx)('transfers the caller who asks for a human through the carrier’s API [needs pocketsphinx]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carrier-demo-'));
    try {
      const result = await twoAtATime(() => runCarrierDemo({ carrier, recordingDir: dir, out: () => undefined, progress: () => undefined }));
      expect(result.ok, result.reason).toBe(true);
      expect(result).toMatchObject({ carrier, endReason: 'transferred', transferredTo });
      expect(result.transcript.slice(0, 2)).toEqual([
        { role: 'assistant', text: 'Hello! How can I help you today?' },
        { role: 'user', text: 'i want to talk to a human please' },
      ]);
      const transfer = result.restRequests.at(-1)!;
      expect(transfer.method).toBe(method);
      expect(transfer.path).toMatch(path);
      expect(transfer.params[param[0]]).toContain(param[1]);
      expect(result.jitter!.receivedPackets).toBeGreaterThan(100); // 20 ms packets
      expect(result.jitter!.lostFrames).toBe(0);
      expect(await readWavFile(result.recording!)).toMatchObject({ sampleRate: rate, channels: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
