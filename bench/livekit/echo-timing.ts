// Round trips of tone bursts on many calls at once, from what the caller sent and heard (the calls ladder of
// ../livekit-calls.bench.ts). Each burst is tagged by its pitch: the callers cycle through TAG_HZ, so an echo is
// paired with the burst of its own pitch, not with whichever burst came before it. (Pairing in order was tried
// first: one echo lost while the calls were set up shifted every later pair by a burst period, about +1 s.) Six
// pitches one second apart tell bursts apart for 6 s, longer than GIVE_UP_MS.

/** The bursts' pitches, far enough apart (300 Hz) for a 10 ms frame at 8 kHz to tell them apart. */
export const TAG_HZ = [400, 700, 1000, 1300, 1600, 1900] as const;
/** The caller's frame: the agent may date an onset up to this much before the caller placed it. */
const FRAME_MS = 20;
/** A burst whose echo has not come this long after it is counted unanswered. */
const GIVE_UP_MS = 5500;

export interface TaggedOnset {
  at: number;
  tag: number;
}

/** Which of TAG_HZ the frame holds most of (Goertzel power at each). */
export function toneTag(audio: Int16Array, rate: number): number {
  let best = 0;
  let bestPower = -1;
  for (let tag = 0; tag < TAG_HZ.length; tag++) {
    const coeff = 2 * Math.cos((2 * Math.PI * TAG_HZ[tag]!) / rate);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < audio.length; i++) {
      const s0 = audio[i]! + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if (power > bestPower) {
      bestPower = power;
      best = tag;
    }
  }
  return best;
}

const isLoud = (audio: Int16Array, level: number): number => {
  for (let i = 0; i < audio.length; i++) if (audio[i]! > level || audio[i]! < -level) return i;
  return -1;
};

/** How far into a burst its pitch is read: past the one stale chunk that can come first (see OnsetDetector). */
const TAG_AFTER_MS = 30;

/**
 * Finds burst onsets in a stream of frames: loud after at least `quietMs` of quiet. The onset is dated by its first
 * loud sample; its pitch is read from the first loud frame starting TAG_AFTER_MS or more after it. Not from the
 * onset frame: the echo agent never ends an utterance, so the output transport keeps the last chunk of each echo
 * (its resampler's tail and the chunker's partial chunk are flushed only at the end of an utterance) until the next
 * echo pushes it out, 20 ms of the previous pitch just ahead of the new one. That also dates an onset up to 20 ms
 * early.
 */
export class OnsetDetector {
  private lastLoudEnd = -Infinity;
  private pending: number | undefined;

  constructor(
    private readonly loudLevel: number,
    private readonly quietMs: number,
  ) {}

  /** One frame; `at` is when its first sample was on the line. Returns an onset once it is tagged. */
  push(audio: Int16Array, at: number, rate: number): TaggedOnset | undefined {
    const first = isLoud(audio, this.loudLevel);
    if (first < 0) return undefined;
    const loudAt = at + (first * 1000) / rate;
    const onset = loudAt - this.lastLoudEnd >= this.quietMs;
    this.lastLoudEnd = at + (audio.length * 1000) / rate;
    if (onset) {
      this.pending = loudAt;
      return undefined;
    }
    if (this.pending === undefined || at - this.pending < TAG_AFTER_MS) return undefined;
    const tagged = { at: this.pending, tag: toneTag(audio, rate) };
    this.pending = undefined;
    return tagged;
  }
}

/** Pairs each call's bursts with their echoes (by tag) and keeps the round trips measured while `measuring`. */
export class EchoTiming {
  private readonly waiting: TaggedOnset[] = [];
  private readonly echoes: TaggedOnset[] = [];
  private readonly detector: OnsetDetector;
  private roundTrips: number[] = [];
  private unanswered = 0;
  measuring = false;

  constructor(loudLevel: number, quietMs: number) {
    this.detector = new OnsetDetector(loudLevel, quietMs);
  }

  /** A burst of pitch TAG_HZ[tag] started on the line at `at` (performance.now() of its first loud sample). */
  sent(at: number, tag: number): void {
    this.waiting.push({ at, tag });
    this.match();
  }

  /** One received frame: `at` is when its first sample was heard, `rate` its sample rate. */
  heard(audio: Int16Array, at: number, rate: number): void {
    const echo = this.detector.push(audio, at, rate);
    if (echo === undefined) return;
    this.echoes.push(echo);
    this.match();
  }

  /**
   * Either may be known first: a burst's onset is known once the caller has sent it (when its say() resolves), and
   * a quick echo can arrive before that. Echoes come back in order, so the bursts before the one an echo matches
   * lost theirs (counted unanswered). An echo no burst claims is dropped once a later burst is known (bursts are
   * reported in order, so its own would have been); until then it waits.
   */
  private match(): void {
    while (this.echoes.length > 0) {
      const echo = this.echoes[0]!;
      const i = this.waiting.findIndex((w) => w.tag === echo.tag && w.at <= echo.at && echo.at - w.at <= GIVE_UP_MS);
      if (i < 0) {
        if (!this.waiting.some((w) => w.at > echo.at)) return;
        this.echoes.shift();
        continue;
      }
      const burst = this.waiting[i]!;
      this.waiting.splice(0, i + 1);
      this.echoes.shift();
      if (this.measuring) {
        this.unanswered += i;
        this.roundTrips.push(echo.at - burst.at);
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
    const first = isLoud(audio, loudLevel);
    if (first >= 0) return at + (first * 1000) / rate;
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
 * The inbound half of each round trip: per caller, each burst's onset sent (caller's process) → the onset of the
 * same pitch the agent heard next (agent's process), both in machineMs. The caller's onset is placed inside its
 * frame, the agent's is when its frame arrived: a delay is right to within a frame, and may be a little below 0 on
 * a fast path (the stream's loopback socket). Bursts the agent's window did not see are skipped.
 */
export function inboundDelays(sent: Record<string, TaggedOnset[]>, heard: Record<string, TaggedOnset[]>): number[] {
  const delays: number[] = [];
  for (const [from, sentOnsets] of Object.entries(sent)) {
    const left = [...(heard[from] ?? [])];
    for (const s of sentOnsets) {
      const i = left.findIndex((h) => h.tag === s.tag && h.at >= s.at - FRAME_MS && h.at - s.at <= GIVE_UP_MS);
      if (i < 0) continue;
      delays.push(left[i]!.at - s.at);
      left.splice(0, i + 1);
    }
  }
  return delays;
}
