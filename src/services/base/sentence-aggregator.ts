// SentenceAggregator: cuts streamed LLM text into sentences for TTS, so the first audio starts after the first
// sentence instead of the whole reply. A sentence ends at . ! ? (or a line break) followed by white space —
// except after an abbreviation ("Dr."), an initial ("J."), a list number at the start of a line ("1.") — so a
// boundary is only declared once the character after it has arrived ("3." might be "3.5"). Markdown the model
// emits (bold, code, headings, bullets, links) is removed: a phone caller must not hear asterisks.
// What stays, because on a phone line it means something: snake_case identifiers ("order_id"), "#" outside a
// heading ("press #"), and "*" standing alone or in a key sequence ("press *", "dial *99#") — the star key.
// A fenced code block is not spoken at all (a caller cannot use code read aloud), and is never cut into
// sentences at its line breaks.

// 'No.' is deliberately absent: in a spoken reply "No. I can't do that." is far more common than "No. 5".
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'inc',
  'ltd', 'co', 'corp', 'dept', 'est', 'apt', 'ave', 'blvd', 'rd', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug',
  'sep', 'sept', 'oct', 'nov', 'dec', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'a.m', 'p.m', 'u.s', 'min',
  'max', 'tel', 'ext', 'fig', 'vol',
]);

export class SentenceAggregator {
  private buffer = '';
  /**
   * Whether the buffer starts at the start of a line (the response's start, or after a line break), rather than
   * after a sentence ended mid-line: "Okay. 42. Yes." must keep its "42", "1. Open" at a line start is a list.
   */
  private atLineStart = true;

  /** Adds streamed text; returns the sentences it completed (markdown removed, possibly none). */
  push(text: string): string[] {
    this.buffer += text;
    const sentences: string[] = [];
    let start = 0;
    let inFence = false;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i]!;
      const next = this.buffer[i + 1];
      if (next === undefined) break;
      // A code fence: no sentence ends inside it (its lines would be spoken one by one); the whole block ends up
      // in one piece, which cleanForSpeech drops.
      if (ch === '`' && this.buffer.startsWith('```', i)) {
        inFence = !inFence;
        i += 2;
        continue;
      }
      if (inFence) continue;
      const isBreak = ch === '\n';
      const isEnd = (ch === '.' || ch === '!' || ch === '?' || ch === '…') && /\s/.test(next);
      if (!isBreak && !isEnd) continue;
      if (ch === '.' && !this.isSentenceDot(start, i)) continue;
      const sentence = cleanForSpeech(this.buffer.slice(start, i + 1), this.atLineStart);
      if (sentence !== '') sentences.push(sentence);
      start = i + 1;
      this.atLineStart = isBreak;
    }
    this.buffer = this.buffer.slice(start);
    return sentences;
  }

  /** Whatever text is left (at the end of a response), cleaned; undefined when nothing speakable remains. */
  flush(): string | undefined {
    const rest = cleanForSpeech(this.buffer, this.atLineStart);
    this.reset();
    return rest === '' ? undefined : rest;
  }

  reset(): void {
    this.buffer = '';
    this.atLineStart = true;
  }

  private isSentenceDot(start: number, dot: number): boolean {
    const before = this.buffer.slice(start, dot);
    const word = /([\p{L}\p{N}.]+)$/u.exec(before)?.[1] ?? '';
    if (word === '') return true;
    if (ABBREVIATIONS.has(word.toLowerCase())) return false;
    // A single capital letter: an initial ("J. R. R. Tolkien").
    if (/^\p{Lu}$/u.test(word)) return false;
    // A number alone at the start of a line: a numbered list item ("1. Open the app"). Not a number alone after
    // a sentence that ended mid-line ("How many? 2. Great."): that is a sentence.
    const lineStart = before.lastIndexOf('\n') + 1;
    if ((lineStart > 0 || this.atLineStart) && /^\s*\d{1,3}$/.test(before.slice(lineStart))) return false;
    return true;
  }
}

// Line-start markdown: at every line start, or (for text that starts mid-line) only after a line break.
const HEADING_AT_LINE_STARTS = /^[^\S\n]{0,3}#{1,6}\s+/gm;
const HEADING_AFTER_BREAKS = /(?<=\n)[^\S\n]{0,3}#{1,6}\s+/g;
const LIST_MARKER_AT_LINE_STARTS = /^\s*(?:[-*+•]|\d{1,3}[.)])\s+/gm;
const LIST_MARKER_AFTER_BREAKS = /(?<=\n)\s*(?:[-*+•]|\d{1,3}[.)])\s+/g;

/**
 * Removes markdown and collapses white space, keeping the words. `atLineStart` false: the text follows a sentence
 * on the same line, so its start is not a line start (no heading, bullet or list number there).
 */
export function cleanForSpeech(text: string, atLineStart = true): string {
  const heading = atLineStart ? HEADING_AT_LINE_STARTS : HEADING_AFTER_BREAKS;
  const listMarker = atLineStart ? LIST_MARKER_AT_LINE_STARTS : LIST_MARKER_AFTER_BREAKS;
  return (
    text
      .replace(/```[\s\S]*?```/g, ' ')
      // An unclosed fence (a response cut short): the code runs to the end.
      .replace(/```[\s\S]*$/, ' ')
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
      .replace(heading, '')
      .replace(listMarker, '')
      .replace(/\*\*(.+?)\*\*/g, '$1')
      .replace(/(?<!\w)__(.+?)__(?!\w)/g, '$1')
      // Not inside a word: in "*123*1#" the second star is part of a key sequence, not the end of an emphasis.
      .replace(/(?<!\w)\*(\S(?:.*?\S)?)\*(?!\w)/g, '$1')
      .replace(/(?<!\w)_(\S(?:.*?\S)?)_(?!\w)/g, '$1')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/[`~]+/g, '')
      // Stray asterisks go, the star key stays: a single "*" between spaces, digits or "#" ("press *", "*99#").
      .replace(/((?<![^\s\d#])\*(?![^\s\d#.,;:!?)]))|\*+/g, (_run, key: string | undefined) => key ?? '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}
