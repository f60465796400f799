// SentenceAggregator: cuts streamed LLM text into sentences for TTS, so the first audio starts after the first
// sentence instead of the whole reply. A sentence ends at . ! ? (or a line break) followed by white space —
// except after an abbreviation ("Dr."), an initial ("J."), a list number at the start of a line ("1.") — so a
// boundary is only declared once the character after it has arrived ("3." might be "3.5"). Markdown the model
// emits (bold, code, headings, bullets, links) is removed: a phone caller must not hear asterisks.

const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'no', 'inc',
  'ltd', 'co', 'corp', 'dept', 'est', 'apt', 'ave', 'blvd', 'rd', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug',
  'sep', 'sept', 'oct', 'nov', 'dec', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'a.m', 'p.m', 'u.s', 'min',
  'max', 'tel', 'ext', 'fig', 'vol',
]);

export class SentenceAggregator {
  private buffer = '';

  /** Adds streamed text; returns the sentences it completed (markdown removed, possibly none). */
  push(text: string): string[] {
    this.buffer += text;
    const sentences: string[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i]!;
      const next = this.buffer[i + 1];
      if (next === undefined) break;
      const isBreak = ch === '\n';
      const isEnd = (ch === '.' || ch === '!' || ch === '?' || ch === '…') && /\s/.test(next);
      if (!isBreak && !isEnd) continue;
      if (ch === '.' && !this.isSentenceDot(start, i)) continue;
      const sentence = cleanForSpeech(this.buffer.slice(start, i + 1));
      if (sentence !== '') sentences.push(sentence);
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return sentences;
  }

  /** Whatever text is left (at the end of a response), cleaned; undefined when nothing speakable remains. */
  flush(): string | undefined {
    const rest = cleanForSpeech(this.buffer);
    this.buffer = '';
    return rest === '' ? undefined : rest;
  }

  reset(): void {
    this.buffer = '';
  }

  private isSentenceDot(start: number, dot: number): boolean {
    const before = this.buffer.slice(start, dot);
    const word = /([\p{L}\p{N}.]+)$/u.exec(before)?.[1] ?? '';
    if (word === '') return true;
    if (ABBREVIATIONS.has(word.toLowerCase())) return false;
    // A single capital letter: an initial ("J. R. R. Tolkien").
    if (/^\p{Lu}$/u.test(word)) return false;
    // A number alone at the start of a line: a numbered list item ("1. Open the app").
    const lineStart = before.lastIndexOf('\n') + 1;
    if (/^\s*\d{1,3}$/.test(before.slice(lineStart))) return false;
    return true;
  }
}

/** Removes markdown and collapses white space, keeping the words. */
export function cleanForSpeech(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/^\s{0,3}#{1,6}\s+/gm, '')
    .replace(/^\s*(?:[-*+•]|\d{1,3}[.)])\s+/gm, '')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/(?<!\w)__(.+?)__(?!\w)/g, '$1')
    .replace(/\*(\S(?:.*?\S)?)\*/g, '$1')
    .replace(/(?<!\w)_(\S(?:.*?\S)?)_(?!\w)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/[*`~]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
