// `piopiy-ai demo --carrier twilio|exotel`: the seed call through a fake carrier's media stream, with the offline engines.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavFile } from '../../src/audio/index.js';
import { runCarrierDemo } from '../../src/cli/demo-carrier.js';
import { hasPocketsphinx } from '../examples/run-demo.js';

describe('demo --carrier twilio', () => {
  it.skipIf(!hasPocketsphinx)('transfers the caller who asks for a human, through Twilio’s REST API [needs pocketsphinx]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carrier-demo-'));
    try {
      const lines: string[] = [];
      const result = await runCarrierDemo({ carrier: 'twilio', recordingDir: dir, out: (l) => lines.push(l), progress: () => undefined });
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
  }, 90_000);
});

describe('demo --carrier exotel', () => {
  it.skipIf(!hasPocketsphinx)('hands the caller who asks for a human to the flow’s Connect applet [needs pocketsphinx]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carrier-demo-'));
    try {
      const result = await runCarrierDemo({ carrier: 'exotel', recordingDir: dir, out: () => undefined, progress: () => undefined });
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
  }, 90_000);
});
