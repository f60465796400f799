import { describe, expect, it } from 'vitest';
import { buildTrigramModel } from '../../../../src/services/local/pocketsphinx/ngram-lm.js';

/** Reads an ARPA text back: log10 probabilities and backoff weights by n-gram. */
function parseArpa(arpa: string): { prob: Map<string, number>; bow: Map<string, number> } {
  const prob = new Map<string, number>();
  const bow = new Map<string, number>();
  for (const line of arpa.split('\n')) {
    const fields = line.split('\t');
    if (fields.length < 2) continue;
    prob.set(fields[1]!, Number(fields[0]));
    if (fields[2] !== undefined) bow.set(fields[1]!, Number(fields[2]));
  }
  return { prob, bow };
}

/** P(word | history) the way a decoder reads a backoff model. */
function probability(model: ReturnType<typeof parseArpa>, history: string[], word: string): number {
  const key = [...history, word].join(' ');
  const found = model.prob.get(key);
  if (found !== undefined) return 10 ** found;
  if (history.length === 0) return 0;
  return 10 ** (model.bow.get(history.join(' ')) ?? 0) * probability(model, history.slice(1), word);
}

describe('buildTrigramModel', () => {
  const sentences = [
    ['i', 'want', 'a', 'human'],
    ['i', 'want', 'to', 'pay'],
    ['talk', 'to', 'a', 'human'],
  ];
  const vocabulary = new Set([...sentences.flat(), 'goodbye']);
  const { arpa, counts } = buildTrigramModel(sentences, vocabulary);
  const model = parseArpa(arpa);
  const predictable = [...vocabulary, '</s>'];

  it('writes a well-formed ARPA file with its counts', () => {
    expect(arpa.startsWith('\\data\\\nngram 1=')).toBe(true);
    expect(arpa.trimEnd().endsWith('\\end\\')).toBe(true);
    expect(counts.unigrams).toBe(vocabulary.size + 2);
    expect(arpa).toContain(`ngram 3=${counts.trigrams}`);
    expect(model.prob.get('<s>')).toBe(-99);
  });

  it('is a distribution after every history, seen or not (backoff included)', () => {
    for (const history of [[], ['<s>'], ['<s>', 'i'], ['i', 'want'], ['want', 'to'], ['goodbye'], ['a', 'goodbye'], ['human', 'to']]) {
      const total = predictable.reduce((sum, w) => sum + probability(model, history, w), 0);
      expect(total, history.join(' ')).toBeCloseTo(1, 4);
    }
  });

  it('prefers what the examples said, keeps a share for words never seen there', () => {
    expect(probability(model, ['to', 'a'], 'human')).toBeGreaterThan(0.5);
    expect(probability(model, ['i', 'want'], 'to')).toBeGreaterThan(probability(model, ['i', 'want'], 'pay'));
    expect(probability(model, ['to', 'a'], 'goodbye')).toBeGreaterThan(0);
  });

  it('refuses words outside the vocabulary and an empty vocabulary', () => {
    expect(() => buildTrigramModel([['hello']], new Set(['hi']))).toThrow(/"hello" is not in the vocabulary/);
    expect(() => buildTrigramModel([], new Set())).toThrow(RangeError);
  });
});
