// The decision rules, on speech events in audio time: a short greeting then silence is a person; speech running
// on (short pauses included) is a machine; a beep, a voicemail phrase or the carrier's verdict decide at once;
// silence and indecision fall on the person's side.
import { describe, expect, it } from 'vitest';
import { AnsweringMachineDetector, carrierVerdict } from '../../src/voicemail/index.js';

/** Runs the detector over speech segments ([startMs, stopMs]) with 20 ms audio ticks up to `untilMs`. */
function run(segments: [number, number][], untilMs = 12_000, detector = new AnsweringMachineDetector()) {
  for (let t = 20; t <= untilMs && detector.decision === undefined; t += 20) {
    for (const [start, stop] of segments) {
      if (start === t) detector.speechStarted(t);
      if (stop === t) detector.speechStopped(t);
    }
    detector.advance(t);
  }
  return detector.decision;
}

describe('AnsweringMachineDetector', () => {
  it('"Hello?" and a wait: a person, humanSilenceMs after the speech stopped', () => {
    expect(run([[500, 1100]])).toEqual({ answeredBy: 'human', reason: 'short-greeting', decidedAtMs: 2100, speechMs: 600 });
  });

  it('"Hello? ... Hello?" with a short pause is still one short greeting', () => {
    expect(run([[500, 1000], [1700, 2200]])).toMatchObject({ answeredBy: 'human', decidedAtMs: 3200, speechMs: 1000 });
  });

  it('speech running on past machineSpeechMs, brief pauses included: a machine, while it talks', () => {
    expect(run([[400, 1800], [2200, 3500], [3900, 6000]])).toMatchObject({ answeredBy: 'machine', reason: 'long-greeting', decidedAtMs: 3000 });
  });

  it('a pause of humanSilenceMs or more decides before a later sentence can', () => {
    expect(run([[400, 1500], [2600, 6000]])).toMatchObject({ answeredBy: 'human', decidedAtMs: 2500 });
  });

  it('a beep, a phrase, the carrier: a machine at once', () => {
    const beeped = new AnsweringMachineDetector();
    expect(beeped.beep(1800, 1000)).toMatchObject({ answeredBy: 'machine', reason: 'beep', decidedAtMs: 1800, detail: '1000 Hz' });
    const worded = new AnsweringMachineDetector();
    worded.speechStarted(300);
    expect(worded.transcript('Sorry, John is not available', 1200)).toMatchObject({ reason: 'transcript', detail: 'not available', speechMs: 900 });
    expect(new AnsweringMachineDetector().transcript('Hello, who is this?', 900)).toBeUndefined();
    expect(new AnsweringMachineDetector().carrier('machine_end_silence', 0)).toMatchObject({ answeredBy: 'machine', reason: 'carrier' });
    expect(new AnsweringMachineDetector().carrier('human', 0)).toMatchObject({ answeredBy: 'human', reason: 'carrier' });
    expect(new AnsweringMachineDetector().carrier('unknown', 0)).toBeUndefined();
  });

  it('the first decision stands', () => {
    const detector = new AnsweringMachineDetector();
    detector.carrier('human', 0);
    expect(detector.beep(2000, 1000)).toBeUndefined();
    expect(detector.decision?.answeredBy).toBe('human');
  });

  it('nobody speaking, or no decision by maxDecisionMs: a person (never hang up on one)', () => {
    expect(run([])).toMatchObject({ answeredBy: 'human', reason: 'silence', decidedAtMs: 5000 });
    const long = new AnsweringMachineDetector({ machineSpeechMs: 20_000, maxDecisionMs: 8000 });
    expect(run([[500, 10_000]], 12_000, long)).toMatchObject({ answeredBy: 'human', reason: 'timeout', decidedAtMs: 8000 });
  });

  it("maps Twilio's AnsweredBy values", () => {
    expect(carrierVerdict('machine_start')).toEqual({ answeredBy: 'machine', greetingOver: false });
    expect(carrierVerdict('machine_end_beep')).toEqual({ answeredBy: 'machine', greetingOver: true });
    expect(carrierVerdict('fax')).toEqual({ answeredBy: 'machine', greetingOver: true });
    expect(carrierVerdict('human')).toEqual({ answeredBy: 'human', greetingOver: true });
    expect(carrierVerdict('unknown')).toBeUndefined();
  });

  it('refuses non-positive settings', () => {
    expect(() => new AnsweringMachineDetector({ machineSpeechMs: 0 })).toThrow(/machineSpeechMs/);
  });
});
