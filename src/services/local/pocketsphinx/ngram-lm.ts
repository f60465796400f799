// A trigram language model in ARPA text, built from a few dozen example sentences: Witten-Bell smoothing,
// interpolated with the lower orders and written in backoff form (the only form ARPA has). Witten-Bell rather than
// Kneser-Ney because Kneser-Ney's discounts are estimated from how many n-grams occur once and twice, which a corpus
// of sixty sentences cannot estimate; Witten-Bell needs only the number of distinct words seen after a history.

export const SENTENCE_START = '<s>';
export const SENTENCE_END = '</s>';

/** log10 probability ARPA uses for "impossible" (the sentence start is never predicted). */
const LOG_ZERO = -99;

interface HistoryStats {
  /** Count of each word seen after this history. */
  readonly next: Map<string, number>;
  total: number;
}

function addCount(table: Map<string, HistoryStats>, history: string, word: string): void {
  let stats = table.get(history);
  if (stats === undefined) {
    stats = { next: new Map(), total: 0 };
    table.set(history, stats);
  }
  stats.next.set(word, (stats.next.get(word) ?? 0) + 1);
  stats.total++;
}

const formatLog = (p: number): string => (p <= 0 ? String(LOG_ZERO) : Math.log10(p).toFixed(6));

export interface TrigramModel {
  /** The ARPA text. */
  readonly arpa: string;
  readonly counts: { unigrams: number; bigrams: number; trigrams: number };
}

/**
 * Builds the model. `sentences` are lists of words (already normalised); `vocabulary` is every word the model may
 * predict, seen in a sentence or not (an unseen one gets the unigram share Witten-Bell reserves for unseen words).
 * Words of a sentence missing from `vocabulary` are a caller error.
 */
export function buildTrigramModel(sentences: readonly (readonly string[])[], vocabulary: ReadonlySet<string>): TrigramModel {
  if (vocabulary.size === 0) throw new RangeError('a language model needs at least one word');
  const unigram: HistoryStats = { next: new Map(), total: 0 };
  const bigrams = new Map<string, HistoryStats>();
  const trigrams = new Map<string, HistoryStats>();
  for (const sentence of sentences) {
    const words = [SENTENCE_START, ...sentence, SENTENCE_END];
    for (let i = 1; i < words.length; i++) {
      const word = words[i]!;
      if (word !== SENTENCE_END && !vocabulary.has(word)) throw new RangeError(`"${word}" is not in the vocabulary`);
      unigram.next.set(word, (unigram.next.get(word) ?? 0) + 1);
      unigram.total++;
      addCount(bigrams, words[i - 1]!, word);
      if (i >= 2) addCount(trigrams, `${words[i - 2]!} ${words[i - 1]!}`, word);
    }
  }

  // Unigrams: Witten-Bell against a uniform distribution over the vocabulary and the sentence end.
  const predictable = [...vocabulary, SENTENCE_END];
  const uniform = 1 / predictable.length;
  const unigramTypes = unigram.next.size;
  const unigramDenominator = unigram.total + unigramTypes;
  const pUnigram = new Map<string, number>();
  for (const word of predictable) {
    pUnigram.set(word, ((unigram.next.get(word) ?? 0) + unigramTypes * uniform) / (unigramDenominator || 1));
  }

  /** Interpolated Witten-Bell: P(w|h) = (c(h,w) + T(h) P_lower(w)) / (c(h) + T(h)). */
  const interpolate = (stats: HistoryStats | undefined, word: string, lower: number): number => {
    if (stats === undefined) return lower;
    const types = stats.next.size;
    return ((stats.next.get(word) ?? 0) + types * lower) / (stats.total + types);
  };
  const pBigram = (history: string, word: string): number => interpolate(bigrams.get(history), word, pUnigram.get(word)!);

  /** ARPA backoff weight of a history: the mass left for unseen words over what the lower order gives them. */
  const backoff = (stats: HistoryStats | undefined, higher: (w: string) => number, lower: (w: string) => number): number => {
    if (stats === undefined) return 1;
    let seenHigher = 0;
    let seenLower = 0;
    for (const word of stats.next.keys()) {
      seenHigher += higher(word);
      seenLower += lower(word);
    }
    return seenLower >= 1 ? 1 : (1 - seenHigher) / (1 - seenLower);
  };

  const lines: string[] = [];
  const bigramEntries: string[] = [];
  const trigramEntries: string[] = [];
  const unigramLine = (word: string, p: number): void => {
    const bow = backoff(bigrams.get(word), (w) => pBigram(word, w), (w) => pUnigram.get(w)!);
    lines.push(`${formatLog(p)}\t${word}\t${Math.log10(bow).toFixed(6)}`);
  };
  unigramLine(SENTENCE_START, 0);
  for (const word of predictable) unigramLine(word, pUnigram.get(word)!);

  for (const [history, stats] of bigrams) {
    for (const word of stats.next.keys()) {
      const p = pBigram(history, word);
      const key = `${history} ${word}`;
      const bow = backoff(trigrams.get(key), (w) => interpolate(trigrams.get(key), w, pBigram(word, w)), (w) => pBigram(word, w));
      bigramEntries.push(`${formatLog(p)}\t${key}\t${Math.log10(bow).toFixed(6)}`);
    }
  }
  for (const [history, stats] of trigrams) {
    const previous = history.slice(history.indexOf(' ') + 1);
    for (const word of stats.next.keys()) {
      trigramEntries.push(`${formatLog(interpolate(stats, word, pBigram(previous, word)))}\t${history} ${word}`);
    }
  }

  const arpa = [
    '\\data\\',
    `ngram 1=${lines.length}`,
    `ngram 2=${bigramEntries.length}`,
    `ngram 3=${trigramEntries.length}`,
    '',
    '\\1-grams:',
    ...lines,
    '',
    '\\2-grams:',
    ...bigramEntries,
    '',
    '\\3-grams:',
    ...trigramEntries,
    '',
    '\\end\\',
    '',
  ].join('\n');
  return { arpa, counts: { unigrams: lines.length, bigrams: bigramEntries.length, trigrams: trigramEntries.length } };
}
