// The fake OpenAI Realtime server on its own, driven with a raw WebSocket: the handshake checks, session.update
// validation answered with the vendor's error shape, a response's events in the vendor's order, and truncation
// checked against the item's audio.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeOpenAIRealtime, type FakeOpenAIRealtime } from '../../../src/testing/fakes/openai-realtime.js';

let fake: FakeOpenAIRealtime;

beforeAll(async () => {
  fake = await startFakeOpenAIRealtime({ rejectKey: 'bad', chunkMs: 100, chunkDelayMs: 0, msPerCharacter: 50 });
});

afterAll(async () => {
  await fake.close();
});

interface Client {
  events: Record<string, unknown>[];
  send(event: Record<string, unknown>): void;
  next(type: string): Promise<Record<string, unknown>>;
  close(): void;
}

async function connect(key = 'sk-ok', query = '?model=gpt-realtime'): Promise<Client> {
  const ws = new WebSocket(`${fake.url}${query}`, { headers: { Authorization: `Bearer ${key}` } });
  const events: Record<string, unknown>[] = [];
  const waiters: { type: string; resolve: (e: Record<string, unknown>) => void; from: number }[] = [];
  ws.on('message', (data) => {
    const event = JSON.parse((data as Buffer).toString("utf8")) as Record<string, unknown>;
    events.push(event);
    for (const w of [...waiters]) if (w.type === event.type) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(event);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return {
    events,
    send: (event) => ws.send(JSON.stringify(event)),
    next: (type) => new Promise((resolve) => waiters.push({ type, resolve, from: events.length })),
    close: () => ws.close(),
  };
}

describe('fake OpenAI Realtime server', () => {
  it('refuses a bad key and a missing model before the upgrade', async () => {
    await expect(connect('bad')).rejects.toThrow('HTTP 401');
    await expect(connect('sk-ok', '')).rejects.toThrow('HTTP 400');
  });

  it('rejects an unknown voice, a PCM rate other than 24 kHz and unknown fields with error events, keeping the session', async () => {
    const client = await connect();
    const bad = [
      { type: 'realtime', audio: { output: { voice: 'nobody' } } },
      { type: 'realtime', audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } },
      { type: 'realtime', audio: { input: { format: { type: 'audio/opus' } } } },
      { type: 'realtime', speed_of_light: 1 },
    ];
    for (const [i, session] of bad.entries()) {
      const error = client.next('error');
      client.send({ type: 'session.update', event_id: `evt_${i}`, session });
      expect(await error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', event_id: `evt_${i}` } });
    }
    const errors = client.events.filter((e) => e.type === 'error').map((e) => (e.error as { param: string }).param);
    expect(errors).toEqual(['session.audio.output.voice', 'session.audio.input.format.rate', 'session.audio.input.format.type', 'session.speed_of_light']);
    expect(fake.connections.at(-1)!.sessionConfigs).toEqual([]);
    const updated = client.next('session.updated');
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'cedar', format: { type: 'audio/pcmu' } } } } });
    expect(await updated).toMatchObject({ session: { audio: { output: { voice: 'cedar', format: { type: 'audio/pcmu' } } } } });
    client.close();
  });

  it('sends a response in the vendor order and checks truncation against the audio sent', async () => {
    const client = await connect();
    const done = client.next('response.done');
    client.send({ type: 'response.create', response: { instructions: 'Say exactly: Hello there friend.' } });
    await done;
    const order = client.events.map((e) => e.type).filter((t) => t !== 'session.created');
    const deltas = order.filter((t) => t === 'response.output_audio.delta').length;
    expect(deltas).toBe(10); // 19 characters x 50 ms, 100 ms a delta
    expect(order.filter((t) => t !== 'response.output_audio.delta' && t !== 'response.output_audio_transcript.delta')).toEqual([
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const itemId = (client.events.find((e) => e.type === 'response.output_item.added')!.item as { id: string }).id;
    const tooLong = client.next('error');
    client.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 1500 });
    expect(await tooLong).toMatchObject({ error: { param: 'audio_end_ms' } });
    const truncated = client.next('conversation.item.truncated');
    client.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 420 });
    expect(await truncated).toMatchObject({ item_id: itemId, content_index: 0, audio_end_ms: 420 });
    expect(fake.connections.at(-1)!.truncations).toEqual([{ itemId, contentIndex: 0, audioEndMs: 420, itemAudioMs: 950, text: 'Hello there friend.' }]);
    const notActive = client.next('error');
    client.send({ type: 'response.cancel' });
    expect(await notActive).toMatchObject({ error: { code: 'response_cancel_not_active' } });
    client.close();
  });
});
