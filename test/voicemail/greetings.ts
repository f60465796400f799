// Simulated answers to an outbound call, made offline: voicemail greetings (Flite, several voices) ending in a beep
// or in silence, and people answering ("Hello?", "Yes, speaking", ...) then waiting. Each goes through a phone line
// (8 kHz, G.711 μ-law, a little line noise), so what the detector hears is what a carrier delivers.
import { mulawToPcm, pcmToMulaw } from '../../src/audio/index.js';
import type { FliteVoice } from '../../src/services/local/flite/flite-engine.js';
import { createSeededRandom } from '../../src/testing/random.js';
import { concatAudio, silence, synthesizeSpeech } from '../../src/testing/speech.js';

export const RATE = 8000;

export interface SimulatedAnswer {
  kind: 'human' | 'machine';
  text: string;
  /** The beep after the greeting, if the machine plays one. */
  beep?: { frequencyHz: number; ms: number };
  audio: Int16Array;
  /** When the speech ends, ms from the answer. */
  speechEndMs: number;
}

export const MACHINE_GREETINGS = [
  "Hi, you've reached Sarah. I can't come to the phone right now, please leave a message after the tone.",
  'The person you are trying to reach is not available. At the tone, please record your message.',
  'Hello, this is John Smith. Sorry I missed your call. Leave your name and number and I will call you back.',
  'Thank you for calling Acme Dental. Our office is currently closed. Please leave a message.',
  'Please leave a message.',
  'Hey, it is Mike. Leave a message.',
  'You have reached the voicemail of extension four two one. Please leave a message after the beep.',
  'Hi, this is Priya. I am away from my desk at the moment. Please leave your details and I will get back to you soon.',
  'The number you have dialed is not available. Please try again later or leave a message.',
  'Hello. Nobody is available to take your call. Please speak after the tone.',
  'Hi there, thanks for calling. We are busy helping other customers. Leave a message and we will call you back.',
  'This is the Garcia family. We are not home right now. Please leave a message.',
  'Hello, you have reached Doctor Lee. For emergencies, hang up and dial nine one one. Otherwise, leave a message.',
  'Sorry, I cannot answer right now. Send me a text or leave a voicemail.',
  'Welcome to the mailbox of Anna Berg. Please leave a short message after the signal.',
  'Hello! I am on vacation until Monday. Please leave a message and I will return your call.',
  'Hi, this is Tom. I am probably on the other line. Leave a message.',
  'You have reached four one five, five five five, zero one nine nine. Please leave a message after the tone.',
  'Hi, it is Lisa. Can not talk now, leave me a message.',
  'Thank you for calling. The mailbox you have reached is full. Goodbye.',
  'Hello, you have reached the sales team. We are out of the office. Please leave your name, number and a short message.',
  'Hey! Not here. Beep.',
  'This is Ahmed. Leave a message and I will call you back as soon as I can.',
  'Hello, this is the answering service for Blue Sky Plumbing. Please leave a message after the tone and we will return your call.',
] as const;

export const HUMAN_ANSWERS = [
  'Hello?',
  'Yes, speaking.',
  'Hello, who is this?',
  'Hi.',
  'Yeah?',
  'Hello, this is Sarah.',
  'Good morning!',
  'Speaking.',
  'Hi, who is calling?',
  'Hello, John speaking.',
  'Yes?',
  'Hello, can I help you?',
  'This is Mike.',
  'Hey, what is up?',
  'Hello, Acme Dental.',
  'Who is it?',
  'Hi there.',
  'Yes, hello?',
  'Good afternoon, Priya here.',
  'Hello? Hello?',
  'Hello, this is Doctor Lee, how can I help?',
  'Yep.',
  'Hello, Garcia residence.',
  'Hi, this is Tom.',
] as const;

const VOICES: readonly FliteVoice[] = ['kal', 'slt', 'rms', 'awb', 'kal16'];
const BEEPS = [
  { frequencyHz: 1000, ms: 500 },
  { frequencyHz: 440, ms: 800 },
  { frequencyHz: 850, ms: 300 },
  { frequencyHz: 1400, ms: 250 },
  { frequencyHz: 2000, ms: 400 },
  { frequencyHz: 620, ms: 1000 },
] as const;

function tone(frequencyHz: number, ms: number, amplitude: number): Int16Array {
  const out = new Int16Array(Math.round((ms * RATE) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / RATE));
  return out;
}

/** Adds line noise (about -55 dBFS) and passes the audio through μ-law, as a phone line does. */
function overPhoneLine(audio: Int16Array, random: () => number): Int16Array {
  const noisy = new Int16Array(audio.length);
  for (let i = 0; i < audio.length; i++) noisy[i] = Math.max(-32768, Math.min(32767, audio[i]! + Math.round((random() - 0.5) * 100)));
  return mulawToPcm(pcmToMulaw(noisy));
}

/** The answers, in a fixed order: every machine greeting, then every human answer. */
export async function simulatedAnswers(): Promise<SimulatedAnswer[]> {
  const random = createSeededRandom(19);
  const answers: SimulatedAnswer[] = [];
  for (const [i, text] of MACHINE_GREETINGS.entries()) {
    const speech = await synthesizeSpeech(text, { sampleRate: RATE, voice: VOICES[i % VOICES.length]! });
    // Every fourth greeting has no beep (a mailbox that records at once, or a "mailbox full").
    const beep = i % 4 === 3 ? undefined : BEEPS[i % BEEPS.length]!;
    const leadMs = 300 + Math.round(random() * 900); // the machine picks up, then speaks
    const audio = concatAudio(
      silence(leadMs, RATE),
      speech,
      silence(400 + Math.round(random() * 600), RATE),
      beep === undefined ? silence(0, RATE) : tone(beep.frequencyHz, beep.ms, 4000 + random() * 8000),
      silence(4000, RATE),
    );
    answers.push({ kind: 'machine', text, ...(beep === undefined ? {} : { beep }), audio: overPhoneLine(audio, random), speechEndMs: leadMs + (speech.length * 1000) / RATE });
  }
  for (const [i, text] of HUMAN_ANSWERS.entries()) {
    const speech = await synthesizeSpeech(text, { sampleRate: RATE, voice: VOICES[i % VOICES.length]! });
    const leadMs = 200 + Math.round(random() * 1000);
    const audio = concatAudio(silence(leadMs, RATE), speech, silence(6000, RATE));
    answers.push({ kind: 'human', text, audio: overPhoneLine(audio, random), speechEndMs: leadMs + (speech.length * 1000) / RATE });
  }
  return answers;
}
