// examples/ollama-agent.ts through `piopiy-ai demo`, its LLM an "Ollama" server: the OpenAI-compatible fake
// (src/testing/fakes/openai-chat.ts) on 127.0.0.1, named by OLLAMA_BASE_URL, answering like a local model that
// calls tools (whole tool calls in one delta, as Ollama sends them). STT and TTS stay offline.
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAIChat, type FakeOpenAIChat } from '../../src/testing/index.js';
import { hasPocketsphinx, runExampleDemo, scriptedTurns } from './run-demo.js';

describe('examples/ollama-agent.ts', () => {
  let ollama: FakeOpenAIChat | undefined;
  afterEach(async () => {
    await ollama?.close();
    ollama = undefined;
  });

  it.skipIf(!hasPocketsphinx)('with OLLAMA_BASE_URL: the local model is asked, calls the tool, and its answer is spoken [needs pocketsphinx]', async () => {
    ollama = await startFakeOpenAIChat();
    ollama.respondWith((body) => {
      const last = body.messages.at(-1)!;
      if (last.role === 'tool') {
        const { summary } = JSON.parse(String(last.content)) as { summary: string };
        return { text: `${summary} See you then!` };
      }
      // What the caller said, as the offline STT heard it.
      const day = /\b(saturday|sunday)\b/i.exec(String(last.content))?.[1]?.toLowerCase();
      if (day === undefined) return { text: 'Sorry, which day?' };
      return { toolCalls: [{ name: 'check_opening_hours', arguments: { day } }], style: 'whole' };
    });
    const { code, stderr, result } = await runExampleDemo('examples/ollama-agent.ts', { env: { OLLAMA_BASE_URL: ollama.baseURL } });
    expect(code, stderr).toBe(0);
    expect(result.ok, stderr).toBe(true);
    expect(result.toolCalls, stderr).toEqual([
      {
        name: 'check_opening_hours',
        arguments: { day: 'saturday' },
        result: { day: 'Saturday', hours: '10 AM to 4 PM', summary: 'On Saturday we are open from 10 AM to 4 PM.' },
      },
    ]);
    expect(scriptedTurns(result), stderr).toEqual([
      ['assistant', 'Hello, Corner Books. How can I help?'],
      ['user', 'Are you open on Saturday'],
      ['assistant', 'On Saturday we are open from 10 AM to 4 PM. See you then!'],
    ]);
    // Two completions on the local model: the caller's turn (with the tool offered), then the tool's result.
    const completions = ollama.requests.filter((r) => r.path.endsWith('/chat/completions') && r.status === 200);
    expect(completions).toHaveLength(2);
    const [first, second] = completions.map((r) => r.body as { model: string; tools?: { function: { name: string } }[]; messages: { role: string }[] });
    expect(first!.model).toBe('llama3.2');
    expect(first!.tools?.map((t) => t.function.name)).toEqual(['check_opening_hours']);
    expect(first!.messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user']);
    expect(second!.messages.at(-1)!.role).toBe('tool');
  }, 60_000);
});
