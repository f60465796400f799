// The production media path measured (issue 15): a LiveKit room over real WebRTC on loopback (the LiveKit test
// server on werift, @livekit/rtc-node on both sides) beside the simulator's stream path, with the same agent — an
// echo (bench/livekit/echo-agent.ts): no VAD, STT, LLM or TTS, so what is measured is the media path alone.
//
//   media_round_trip_ms      a 440 Hz burst's first sample at the caller → its echo's first sample heard back, per
//                            media; `inbound_ms` is the first half (caller → the agent's pipeline)
//   media_tone_snr_db        the echoed burst against the best-fitting sine (median of 100 ms blocks): on LiveKit
//                            after Opus and rtc-node's resampling both ways
// Calls per process over real WebRTC, and where the agent's CPU goes: ./livekit-calls.bench.ts.
// Each figure carries the load average (1 min) when it was taken: the machine may be shared.
//
// Flags (`--x=y`): --bursts=10
// The voice-to-voice time of the demo over LiveKit is `piopiy-ai demo --media livekit --json` (latency field).
import { loadavg } from 'node:os';
import { parseArgs } from './calls/stats.js';
import { emit, percentile, round } from './lib.js';
import { measureRoundTrip } from './livekit/round-trip.js';

const args = parseArgs(process.argv.slice(2));
const bursts = Number(args.get('bursts') ?? 10);

const load = (): number => round(loadavg()[0]!);
const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), min: round(sorted[0] ?? NaN), max: round(sorted.at(-1) ?? NaN), n: sorted.length };
};

async function roundTrips(): Promise<void> {
  for (const media of ['stream', 'livekit'] as const) {
    const loadBefore = load();
    const r = await measureRoundTrip(media, bursts);
    const rt = stats(r.roundTripMs);
    const snr = stats(r.snrDb);
    const common = { media, caller_rate: r.callerRate, agent_output_rate: r.agentOutputRate, load_1m: [loadBefore, load()] };
    emit({ name: 'media_round_trip_ms', value: rt.p50, unit: 'ms', ...rt, inbound_ms: stats(r.inboundMs), ...common });
    emit({ name: 'media_tone_snr_db', value: snr.p50, unit: 'dB', ...snr, ...common });
  }
}

await roundTrips();
process.exit(0);
