// Round trips of tone bursts on many calls at once, from what the caller sent and heard (the calls ladder of
// ../livekit-calls.bench.ts). Per call, each burst's first loud sample sent is queued; the first loud sample of each
// echo heard (loud after at least `quietMs` of quiet) takes the oldest queued burst. Pairing in order rather than
// with the nearest burst is the cautious choice: an echo later than the bursts' period is counted at its full
// delay, not mistaken for the next burst's quick echo; an echo that never came shows up as `unanswered` (and a
// later echo is paired with that older burst, so a lost echo inflates the round trip instead of hiding).

/** The caller's frame: the agent may date an onset up to this much before the caller placed it. */
const FRAME_MS = 20;
/** Bursts whose echo is this much overdue are given up on (counted unanswered) so one loss does not skew the rest. */
const GIVE_UP_MS = 5000;

export class EchoTiming {
  private readonly waiting: number[] = [];
  private readonly echoes: number[] = [];
  private lastLoudAt = -Infinity;
  /** Round trips (ms) measured since the last `take()`. */
  private roundTrips: number[] = [];
  private unanswered = 0;
  measuring = false;

  constructor(
    private readonly loudLevel: number,
    private readonly quietMs: number,
  ) {}

  /** A burst started on the line at `at` (performance.now() of its first loud sample). */
  sent(at: number): void {
    this.waiting.push(at);
    this.match();
  }

  /** One received frame: `at` is when its first sample was heard, `rate` its sample rate. */
  heard(audio: Int16Array, at: number, rate: number): void {
    let first = -1;
    for (let i = 0; i < audio.length; i++) {
      if (audio[i]! > this.loudLevel || audio[i]! < -this.loudLevel) {
        first = i;
        break;
      }
    }
    if (first < 0) return;
    const loudAt = at + (first * 1000) / rate;
    const onset = loudAt - this.lastLoudAt >= this.quietMs;
    this.lastLoudAt = at + (audio.length * 1000) / rate;
    if (!onset) return;
    this.echoes.push(loudAt);
    this.match();
  }

  /**
   * Pairs bursts with echoes in order. Either may be known first: a burst's onset is known once the caller has sent
   * it (the caller host learns it when its say() resolves), and a quick echo can arrive before that.
   */
  private match(): void {
    while (this.waiting.length > 0 && this.echoes.length > 0) {
      const sentAt = this.waiting[0]!;
      const echoAt = this.echoes[0]!;
      if (echoAt < sentAt) {
        this.echoes.shift(); // not an echo of a burst we know of
      } else if (echoAt - sentAt > GIVE_UP_MS) {
        this.waiting.shift();
        if (this.measuring) this.unanswered++;
      } else {
        this.waiting.shift();
        this.echoes.shift();
        if (this.measuring) this.roundTrips.push(echoAt - sentAt);
      }
    }
  }

  /** The round trips and unanswered bursts counted while `measuring`, and starts counting afresh. */
  take(): { roundTripMs: number[]; unanswered: number } {
    const taken = { roundTripMs: this.roundTrips, unanswered: this.unanswered };
    this.roundTrips = [];
    this.unanswered = 0;
    return taken;
  }
}

/** performance.now() of the first sample above `loudLevel` in frames sent from index `from` on, if any. */
export function firstLoudSent(
  frames: readonly { audio: Int16Array; at: number }[],
  from: number,
  rate: number,
  loudLevel: number,
): number | undefined {
  for (let index = from; index < frames.length; index++) {
    const { audio, at } = frames[index]!;
    for (let i = 0; i < audio.length; i++) if (audio[i]! > loudLevel || audio[i]! < -loudLevel) return at + (i * 1000) / rate;
  }
  return undefined;
}

/**
 * A `performance.now()` time of this process on the machine's monotonic clock, comparable across its processes.
 * (`performance.timeOrigin + now()` is not: two processes' origins were seen ~290 ms apart.)
 */
export function machineMs(at: number): number {
  return at + (Number(process.hrtime.bigint()) / 1e6 - performance.now());
}

/**
 * The inbound half of each round trip: per caller, each burst's onset sent (caller's process) → the first onset the
 * agent heard at or after it (agent's process), both in machineMs. The caller's onset is placed inside its frame,
 * the agent's is when its frame arrived: a delay is right to within a frame, and may be a little below 0 on a fast
 * path (the stream's loopback socket). Onsets on either side with no partner within `GIVE_UP_MS` (the edges of the two windows) are skipped.
 */
export function inboundDelays(sent: Record<string, number[]>, heard: Record<string, number[]>): number[] {
  const delays: number[] = [];
  for (const [from, sentOnsets] of Object.entries(sent)) {
    const heardOnsets = heard[from] ?? [];
    let h = 0;
    for (const s of sentOnsets) {
      while (h < heardOnsets.length && heardOnsets[h]! < s - FRAME_MS) h++;
      if (h === heardOnsets.length) break;
      if (heardOnsets[h]! - s > GIVE_UP_MS) continue;
      delays.push(heardOnsets[h++]! - s);
    }
  }
  return delays;
}
