// Hearing: word error rate of the offline recogniser (PocketSphinx) on the held-out customer-service sentences
// (bench/hearing/sentences.ts), spoken by two Flite voices, clean, mixed with white, pink and babble noise at 0, 5
// and 10 dB SNR, and with the agent's speech echoed back at -6 dB; for each configuration: the general language
// model, the domain model built from the tuning phrases, the domain model behind each noise suppressor, and (on
// the clean and echo conditions) behind the echo canceller: `domain+aec` after the agent's line has been heard once
// alone (the canceller has learnt the room, as after a greeting), `domain+aec-cold` from the first sample.
// One JSON line per voice x condition x configuration (`hearing_wer`, %), and the CPU each costs: decoding per
// sentence (`hearing_decode_cpu`, ms per call of one sentence) and noise suppression per second of caller audio
// (`hearing_noise_cpu`, ms/s, i.e. per-mille of one core).
// `--set human` scores the twenty held-out requests for a person instead of the measured sentences.
// Usage: tsx bench/hearing.bench.ts [--set measured|human] [--sentences N] [--voices slt,kal16] [--conditions clean,pink5,...]
//        [--configurations general,domain,domain+gtcrn,domain+rnnoise,domain+aec,domain+aec-cold]
import { concatAudio, silence, synthesizeSpeech } from '../src/testing/speech.js';
import { NoiseSuppressionFilter, type NoiseSuppressionKind } from '../src/audio/noise/index.js';
import { PocketsphinxDecoder, DEFAULT_DICT_PATH } from '../src/services/local/pocketsphinx/index.js';
import { buildDomainModel } from '../src/services/local/pocketsphinx/domain-model.js';
import { cancelEchoOffline, roomEcho } from './hearing/echo.js';
import { emit, round } from './lib.js';
import { babbleNoise, mixAtSnr, pinkNoise, power, whiteNoise, withEcho } from './hearing/noise.js';
import { HUMAN_REQUESTS, MEASURED_SENTENCES, TUNING_PHRASES } from './hearing/sentences.js';
import { wordErrorRate } from './hearing/wer.js';

const RATE = 16000;
const PAD_MS = 300;
const AGENT_LINE = 'Our store opens at nine in the morning and closes at eight in the evening on weekdays.';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const listOption = (name: string, all: readonly string[]): string[] => option(name)?.split(',') ?? [...all];

const VOICES = listOption('voices', ['slt', 'kal16']) as Array<'slt' | 'kal16'>;
const CONDITIONS = listOption('conditions', [
  'clean', 'white10', 'white5', 'white0', 'pink10', 'pink5', 'pink0', 'babble10', 'babble5', 'babble0', 'echo-6',
]);
const CONFIGURATIONS = listOption('configurations', ['general', 'domain', 'domain+gtcrn', 'domain+rnnoise', 'domain+aec', 'domain+aec-cold']);
const SET = option('set') ?? 'measured';
if (SET !== 'measured' && SET !== 'human') throw new RangeError(`--set must be measured or human, got ${SET}`);
const allSentences = SET === 'human' ? HUMAN_REQUESTS : MEASURED_SENTENCES;
const sentences = allSentences.slice(0, Number(option('sentences') ?? allSentences.length));

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The condition's audio for one sentence: PAD_MS of silence on each side, then noise or echo over all of it. */
async function conditionAudio(speech: Int16Array, condition: string, seed: number, agentSpeech: Int16Array): Promise<Int16Array> {
  const padded = concatAudio(silence(PAD_MS, RATE), speech, silence(PAD_MS, RATE));
  const speechPower = power(speech);
  if (condition === 'clean') return padded;
  if (condition === 'echo-6') return withEcho(padded, agentSpeech, -6, 30, RATE, speechPower);
  const match = /^(white|pink|babble)(\d+)$/.exec(condition);
  if (match === null) throw new RangeError(`unknown condition ${condition}`);
  const snr = Number(match[2]);
  const noise =
    match[1] === 'white' ? whiteNoise(padded.length, seed)
    : match[1] === 'pink' ? pinkNoise(padded.length, seed)
    : await babbleNoise(padded.length, seed, TUNING_PHRASES, RATE);
  return mixAtSnr(padded, noise, snr, speechPower);
}

/**
 * The condition's audio through the echo canceller, the agent's line (played from the first sample) as reference.
 * Warm: the caller's microphone first hears the agent's line alone, through the same room (the echo's gain taken
 * from the condition's audio), and only what follows is kept.
 */
function cancelConditionEcho(audio: Int16Array, speech: Int16Array, agentSpeech: Int16Array, warm: boolean): Int16Array {
  const padded = concatAudio(silence(PAD_MS, RATE), speech, silence(PAD_MS, RATE));
  if (!warm) return cancelEchoOffline(audio, agentSpeech, RATE);
  let echoEnergy = 0;
  for (let i = 0; i < audio.length; i++) echoEnergy += (audio[i]! - padded[i]!) ** 2;
  const unit = roomEcho(agentSpeech, audio.length, 30, 1, RATE);
  const gain = Math.sqrt(echoEnergy / Math.max(1, unit.reduce((sum, v) => sum + v * v, 0)));
  const warmUp = concatAudio(agentSpeech, silence(200, RATE));
  const warmEcho = Int16Array.from(roomEcho(warmUp, warmUp.length, 30, gain, RATE), (v) => Math.round(v));
  return cancelEchoOffline(concatAudio(warmEcho, audio), concatAudio(warmUp, agentSpeech), RATE).slice(warmUp.length);
}

const domain = buildDomainModel({ phrases: TUNING_PHRASES, dictPath: DEFAULT_DICT_PATH });
const decoders = {
  general: await PocketsphinxDecoder.create({ mode: 'dictation' }),
  domain: await PocketsphinxDecoder.create({ mode: 'dictation', lmPath: domain.lmPath, dictPath: domain.dictPath }),
};

for (const voice of VOICES) {
  const speech = await Promise.all(sentences.map((s) => synthesizeSpeech(s, { sampleRate: RATE, voice })));
  const agentSpeech = await synthesizeSpeech(AGENT_LINE, { sampleRate: RATE, voice: voice === 'slt' ? 'kal16' : 'slt' });
  for (const condition of CONDITIONS) {
    const audio = await Promise.all(speech.map((s, i) => conditionAudio(s, condition, 1000 + i, agentSpeech)));
    const audioSecs = audio.reduce((sum, a) => sum + a.length, 0) / RATE;
    for (const configuration of CONFIGURATIONS) {
      const [lm, filter] = configuration.split('+') as ['general' | 'domain', NoiseSuppressionKind | 'aec' | 'aec-cold' | undefined];
      let input = audio;
      if (filter === 'aec' || filter === 'aec-cold') {
        if (condition !== 'clean' && condition !== 'echo-6') continue;
        const before = cpuMs();
        input = audio.map((a, i) => cancelConditionEcho(a, speech[i]!, agentSpeech, filter === 'aec'));
        emit({ name: 'hearing_echo_cpu', value: round((cpuMs() - before) / audioSecs, 1), unit: 'ms/s', voice, condition, configuration });
      } else if (filter !== undefined) {
        const suppressor = filter;
        const before = cpuMs();
        input = [];
        for (const a of audio) {
          const filter = await NoiseSuppressionFilter.create(suppressor, RATE);
          // The filter delays its output: flush it with its latency's worth of silence.
          const out = filter.process(concatAudio(a, new Int16Array(filter.latencySamples)));
          input.push(out.subarray(filter.latencySamples));
          filter.destroy();
        }
        emit({ name: 'hearing_noise_cpu', value: round((cpuMs() - before) / audioSecs, 1), unit: 'ms/s', voice, condition, configuration });
      }
      const before = cpuMs();
      const pairs = [];
      for (const [i, a] of input.entries()) pairs.push({ reference: sentences[i]!, hypothesis: await decoders[lm].decode(a) });
      const decodeCpu = (cpuMs() - before) / input.length;
      emit({ name: 'hearing_wer', value: round(wordErrorRate(pairs), 1), unit: '%', voice, condition, configuration, set: SET, sentences: pairs.length });
      emit({ name: 'hearing_decode_cpu', value: round(decodeCpu, 0), unit: 'ms', voice, condition, configuration, rtf: round(decodeCpu / 1000 / (audioSecs / input.length), 3) });
      if (process.env.HEARING_VERBOSE === '1') {
        for (const p of pairs) process.stderr.write(`${voice} ${condition} ${configuration}: ${p.reference} -> ${p.hypothesis}\n`);
      }
    }
  }
}
await decoders.general.free();
await decoders.domain.free();
