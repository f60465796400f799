// A domain language model for PocketSphinx, built when a service starts: the agent's example phrases plus the
// conversational core (core-vocabulary.ts) become a trigram model (ngram-lm.ts), written with a dictionary that
// holds only its words. The general 30 MB model knows 130,000 words and what newspapers say; a caller of a support
// line says a few hundred words in predictable orders, and a model of those is both more accurate and faster.
//
// Words missing from the pronunciation dictionary cannot be recognised (PocketSphinx needs a pronunciation and this
// build has no letter-to-sound rules), so they are left out: a phrase is cut at such a word, so that no n-gram
// joins the words on either side of it as if they were neighbours, and the words are reported (`missingWords`).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORE_SENTENCES } from './core-vocabulary.js';
import { buildTrigramModel } from './ngram-lm.js';

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** English words for 0-9999; longer digit strings (phone and order numbers) are read digit by digit, as people do. */
export function numberWords(digits: string): string[] {
  if (digits.length > 4) return [...digits].map((d) => ONES[Number(d)]!);
  const n = Number(digits);
  if (n < 20) return [ONES[n]!];
  if (n < 100) return [TENS[Math.floor(n / 10)]!, ...(n % 10 === 0 ? [] : [ONES[n % 10]!])];
  if (n < 1000) return [ONES[Math.floor(n / 100)]!, 'hundred', ...(n % 100 === 0 ? [] : numberWords(String(n % 100)))];
  return [...numberWords(String(Math.floor(n / 1000))), 'thousand', ...(n % 1000 === 0 ? [] : numberWords(String(n % 1000)))];
}

/** Lower case words as the dictionary spells them: punctuation dropped (apostrophes kept), numbers in words. */
export function normaliseWords(text: string): string[] {
  const words: string[] = [];
  for (const token of text.toLowerCase().replace(/[^a-z0-9'\s-]/g, ' ').split(/[\s-]+/)) {
    // "2nd" and "a4" become a number and a word.
    for (const part of token.replace(/^'+|'+$/g, '').split(/(?<=[a-z'])(?=\d)|(?<=\d)(?=[a-z'])/)) {
      if (part === '') continue;
      if (/^\d+$/.test(part)) words.push(...numberWords(part));
      else words.push(part);
    }
  }
  return words;
}

/** Pronunciations by word (with the dictionary's alternates, `word(2)`), read once per dictionary file. */
const dictionaries = new Map<string, Map<string, string[]>>();

function readDictionary(path: string): Map<string, string[]> {
  let dictionary = dictionaries.get(path);
  if (dictionary === undefined) {
    dictionary = new Map();
    for (const line of readFileSync(path, 'latin1').split('\n')) {
      const space = line.indexOf(' ');
      if (space <= 0) continue;
      const entry = line.slice(0, space);
      const word = entry.replace(/\(\d+\)$/, '');
      const lines = dictionary.get(word);
      if (lines === undefined) dictionary.set(word, [line]);
      else lines.push(line);
    }
    dictionaries.set(path, dictionary);
  }
  return dictionary;
}

export interface DomainModelFiles {
  lmPath: string;
  dictPath: string;
  /** Words of the phrases the dictionary does not have (left out of the model), sorted. */
  missingWords: string[];
  words: number;
}

export interface DomainModelOptions {
  phrases: readonly string[];
  /** Add the conversational core (default true). */
  includeCore?: boolean;
  /** The full pronunciation dictionary the model's words are taken from. */
  dictPath: string;
  /** Where the files go (default: the system temp folder); files are named by a hash of their content and reused. */
  directory?: string;
}

/**
 * Builds (or finds, from an earlier start with the same phrases) the ARPA model and its dictionary. Synchronous: the
 * work is a few milliseconds once the dictionary has been read (about 0.1 s, once per process).
 */
export function buildDomainModel(options: DomainModelOptions): DomainModelFiles {
  const dictionary = readDictionary(options.dictPath);
  const missing = new Set<string>();
  const sentences: string[][] = [];
  const texts = [...options.phrases, ...(options.includeCore === false ? [] : CORE_SENTENCES)];
  for (const text of texts) {
    let current: string[] = [];
    for (const word of normaliseWords(text)) {
      if (dictionary.has(word)) {
        current.push(word);
        continue;
      }
      missing.add(word);
      if (current.length > 0) sentences.push(current);
      current = [];
    }
    if (current.length > 0) sentences.push(current);
  }
  const vocabulary = new Set(sentences.flat());
  if (vocabulary.size === 0) {
    throw new RangeError('pocketsphinx: none of the phrases has a word the pronunciation dictionary knows');
  }
  const model = buildTrigramModel(sentences, vocabulary);
  const dictText = [...vocabulary].sort().flatMap((w) => dictionary.get(w)!).join('\n') + '\n';
  const hash = createHash('sha256').update(model.arpa).update(dictText).digest('hex').slice(0, 16);
  const directory = options.directory ?? join(tmpdir(), 'piopiy-ai-pocketsphinx');
  mkdirSync(directory, { recursive: true });
  const lmPath = join(directory, `domain-${hash}.arpa`);
  const dictPath = join(directory, `domain-${hash}.dict`);
  // Written under a temporary name first: another process may be reading a file of the same content.
  for (const [path, text] of [[lmPath, model.arpa], [dictPath, dictText]] as const) {
    if (existsSync(path)) continue;
    const partial = `${path}.${process.pid}.tmp`;
    writeFileSync(partial, text);
    renameSync(partial, path);
  }
  return { lmPath, dictPath, missingWords: [...missing].sort(), words: vocabulary.size };
}
