// WordProgress: which words of a sentence the caller heard, from the vendor's word timings, so that a sentence cut
// short by a dropped socket can go on from the first word not heard in full (websocket-tts.ts).

/** A word as matched against the vendor's word timings: lower case, letters and digits only. */
function wordKey(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/**
 * The words of one sentence and the vendor's timing of each, matched in order, so that a sentence cut short can
 * go on from the first word not heard in full. Timings that do not follow the text (a vendor that spells numbers
 * out, say) make the match give up: then no word counts as said.
 */
export class WordProgress {
  private readonly tokens: readonly string[];
  private readonly keys: readonly string[];
  private readonly starts: (number | undefined)[] = [];
  private next = 0;
  private lost = false;

  constructor(text: string) {
    this.tokens = text.split(/\s+/).filter((t) => t !== '');
    this.keys = this.tokens.map(wordKey);
  }

  get words(): number {
    return this.tokens.length;
  }

  /** Words whose timing arrived (and the marks between them); 0 once the timings stopped following the text. */
  get matched(): number {
    return this.lost ? 0 : this.next;
  }

  /**
   * Records a word timing; returns the index of the word it is (the next of the sentence), or -1 when it is not
   * one: a timing from the end of the previous sentence arriving late, or one that does not follow the text.
   */
  note(word: string, offsetMs: number): number {
    const key = wordKey(word);
    if (this.lost || key === '') return -1;
    let i = this.next;
    // A dash or other mark with no letters is not a word every vendor times.
    while (i < this.keys.length && this.keys[i] === '') i++;
    if (i < this.keys.length && this.keys[i] === key) {
      this.starts[i] = offsetMs;
      this.next = i + 1;
      return i;
    }
    if (this.next > 0) this.lost = true;
    return -1;
  }

  /** Words heard in full once the audio up to `receivedMs` arrived: those before the last word begun by then. */
  wordsSaidBy(receivedMs: number): number {
    if (this.lost) return 0;
    let said = 0;
    for (let i = 0; i < this.next; i++) {
      const start = this.starts[i];
      if (start !== undefined && start < receivedMs) said = i;
    }
    return said;
  }

  /** The sentence from its word `index` on. */
  textFrom(index: number): string {
    return this.tokens.slice(index).join(' ');
  }
}
