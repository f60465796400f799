// examples/weather-agent.ts through `piopiy-ai demo`: one caller line, one scripted response with two parallel
// tool calls (get_weather and get_forecast), and one spoken answer built from both results.
import { describe, expect, it } from 'vitest';
import { hasPocketsphinx, runExampleDemo, scriptedTurns } from './run-demo.js';

describe('examples/weather-agent.ts', () => {
  it.skipIf(!hasPocketsphinx)('weather and forecast: both tools in one response, one answer from both results [needs pocketsphinx]', async () => {
    const { code, stderr, result } = await runExampleDemo('examples/weather-agent.ts');
    expect(code, stderr).toBe(0);
    expect(result.ok, stderr).toBe(true);
    expect(result.toolCalls.map((t) => [t.name, t.arguments]), stderr).toEqual([
      ['get_weather', { city: 'London' }],
      ['get_forecast', { city: 'London', days: 3 }],
    ]);
    // The pretend weather service is deterministic: the same city gives the same weather.
    const weather = 'It is cloudy and 17 degrees in London.';
    const forecast = 'Over the next 3 days: light rain on Sunday, partly cloudy on Monday and windy on Tuesday.';
    expect(result.toolCalls.map((t) => (t.result as { summary: string }).summary)).toEqual([weather, forecast]);
    expect(result.toolCalls.every((t) => t.error === undefined)).toBe(true);
    expect(scriptedTurns(result), stderr).toEqual([
      ['assistant', 'Hello! Ask me about the weather in any city.'],
      ['user', 'What is the weather and forecast in London'],
      ['assistant', `${weather} ${forecast}`],
    ]);
    expect(result.restRequests).toEqual([]);
    expect(result.latency.voiceToVoiceMs).toHaveLength(1);
  }, 60_000);
});
