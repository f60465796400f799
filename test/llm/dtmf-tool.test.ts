// The ready-made send_dtmf tool, run by the ToolRegistry as an LLM service runs it: the model's digits reach
// ctx.sendDtmf; what the schema or the keys refuse becomes an error result the model reads.
import { describe, expect, it } from 'vitest';
import { sendDtmfTool } from '../../src/llm/dtmf-tool.js';
import { ToolRegistry, type ToolOutcome } from '../../src/llm/tools.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { silentLogger } from '../../src/logging/index.js';

function registry(options: Parameters<typeof sendDtmfTool>[0] = {}): ToolRegistry {
  const tool = sendDtmfTool(options);
  const tools = new ToolRegistry();
  tools.register(tool.schema, tool.handler, tool.options);
  return tools;
}

function press(tools: ToolRegistry, args: unknown, sendDtmf?: (digits: string) => void, name = 'send_dtmf'): Promise<ToolOutcome> {
  return tools.execute(
    { id: 'call_1', name, arguments: JSON.stringify(args) },
    { call: undefined, interruption: new AbortController().signal, say: () => undefined, sendDtmf },
  );
}

describe('sendDtmfTool', () => {
  it('presses the digits the model gives and tells it so; the model is not run again by default', async () => {
    const pressed: string[] = [];
    const outcome = await press(registry(), { digits: '12#' }, (digits) => pressed.push(digits));
    expect(pressed).toEqual(['12#']);
    expect(outcome).toMatchObject({ result: 'Pressed 12#.', error: undefined, runLLM: false });
  });

  it('refuses digits that are not keys before pressing anything, in words the model can act on', async () => {
    const pressed: string[] = [];
    const outcome = await press(registry(), { digits: '12x' }, (digits) => pressed.push(digits));
    expect(pressed).toEqual([]);
    expect(outcome.error).toMatch(/^invalid arguments: \$\.digits: /);
    expect((await press(registry(), {}, () => undefined)).error).toMatch(/digits/);
  });

  it('a transport without tones, or no call at all, becomes an error result', async () => {
    const unsupported = await press(registry(), { digits: '1' }, () => {
      throw new Error("sending DTMF tones is not supported by this call's transport");
    });
    expect(unsupported.error).toBe("the tool send_dtmf failed: sending DTMF tones is not supported by this call's transport");
    const outside = await press(registry(), { digits: '1' });
    expect(outside.error).toMatch(/not available here: the tool is not running in a call/);
  });

  it('name, description and runLLM are configurable', async () => {
    const tool = sendDtmfTool({ name: 'press_keys', description: 'Press keys.', runLLM: true });
    expect(tool.schema.toDefinition()).toMatchObject({ name: 'press_keys', description: 'Press keys.' });
    expect(tool.schema.required).toEqual(['digits']);
    const outcome = await press(registry({ name: 'press_keys', runLLM: true }), { digits: '0' }, () => undefined, 'press_keys');
    expect(outcome.runLLM).toBe(true);
  });

  it('is added to a VoiceAgent in one line', () => {
    const voice = new VoiceAgent({ instructions: 'x', logger: silentLogger });
    voice.addTool(sendDtmfTool());
    expect(voice.context.snapshot().tools.map((t) => t.name)).toEqual(['send_dtmf']);
  });
});
