import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentenceAggregator, cleanForSpeech } from '../../../src/services/base/sentence-aggregator.js';

/** Everything the aggregator says for `text` pushed in the given pieces, the flushed rest last. */
function speak(pieces: readonly string[]): string[] {
  const aggregator = new SentenceAggregator();
  const sentences = pieces.flatMap((piece) => aggregator.push(piece));
  const rest = aggregator.flush();
  return rest === undefined ? sentences : [...sentences, rest];
}

/** Pushed one character at a time, as a model's tokens can be. */
const byChar = (text: string): string[] => speak([...text]);
const whole = (text: string): string[] => speak([text]);

describe('SentenceAggregator: streaming', () => {
  it('emits the first sentence as soon as the character after its period arrives', () => {
    const aggregator = new SentenceAggregator();
    expect(aggregator.push('Hello')).toEqual([]);
    expect(aggregator.push(' there')).toEqual([]);
    expect(aggregator.push('.')).toEqual([]); // "there." might still be "there.com"
    expect(aggregator.push(' ')).toEqual(['Hello there.']);
    expect(aggregator.push('How are')).toEqual([]);
    expect(aggregator.push(' you?\nI')).toEqual(['How are you?']);
    expect(aggregator.flush()).toBe('I');
    expect(aggregator.flush()).toBeUndefined();
  });

  it('several sentences in one push', () => {
    expect(whole('One. Two! Three? Four')).toEqual(['One.', 'Two!', 'Three?', 'Four']);
  });

  it('a period must be followed by white space to end a sentence', () => {
    expect(byChar('Visit example.com today. Thanks')).toEqual(['Visit example.com today.', 'Thanks']);
  });

  it('"!", "?", "…" and "..." end sentences', () => {
    expect(byChar('Great! Really? Well… Hmm... Okay.')).toEqual(['Great!', 'Really?', 'Well…', 'Hmm...', 'Okay.']);
    expect(byChar('What?! No way.')).toEqual(['What?!', 'No way.']);
  });

  it('does not end a sentence after an abbreviation', () => {
    expect(byChar('Dr. Rao will call. Mr. and Mrs. Iyer too. Bye')).toEqual([
      'Dr. Rao will call.',
      'Mr. and Mrs. Iyer too.',
      'Bye',
    ]);
    expect(byChar('Bring an ID, e.g. a passport, i.e. something official. Thanks')).toEqual([
      'Bring an ID, e.g. a passport, i.e. something official.',
      'Thanks',
    ]);
    expect(byChar('Open from 9 a.m. to 5 p.m. on weekdays. Closed Sun. and Sat. too.')).toEqual([
      'Open from 9 a.m. to 5 p.m. on weekdays.',
      'Closed Sun. and Sat. too.',
    ]);
    expect(byChar('Apples, pears, etc. are fine.')).toEqual(['Apples, pears, etc. are fine.']);
  });

  it('does not end a sentence after an initial', () => {
    expect(byChar('J. R. R. Tolkien wrote it. Yes.')).toEqual(['J. R. R. Tolkien wrote it.', 'Yes.']);
  });

  it('a decimal point is not a full stop, a number at the end of a sentence is', () => {
    expect(byChar('It costs 3.5 dollars. Okay.')).toEqual(['It costs 3.5 dollars.', 'Okay.']);
    expect(byChar('The total is 250. Anything else?')).toEqual(['The total is 250.', 'Anything else?']);
  });

  it('numbered list items at a line start stay with their text (the number is not spoken)', () => {
    expect(byChar('Steps:\n1. Open the app.\n2. Tap login.\n10) Done.')).toEqual([
      'Steps:',
      'Open the app.',
      'Tap login.',
      'Done.',
    ]);
    expect(byChar('1. First.\n2. Second.')).toEqual(['First.', 'Second.']);
  });

  it('a number after a sentence on the same line is a sentence of its own, not a list item', () => {
    expect(byChar('How many? 2. Great.')).toEqual(['How many?', '2.', 'Great.']);
    expect(byChar('Okay. 42. That is the answer.')).toEqual(['Okay.', '42.', 'That is the answer.']);
  });

  it('a line break ends a sentence; blank lines are skipped', () => {
    expect(byChar('First line\nSecond line\n\n\nThird line')).toEqual(['First line', 'Second line', 'Third line']);
    expect(byChar('Windows\r\nline ends')).toEqual(['Windows', 'line ends']);
  });

  it('flush returns the cleaned remainder once; nothing speakable gives undefined', () => {
    const aggregator = new SentenceAggregator();
    expect(aggregator.push('**Thanks for calling')).toEqual([]);
    expect(aggregator.flush()).toBe('Thanks for calling');
    expect(aggregator.flush()).toBeUndefined();
    aggregator.push('  \n ** ');
    expect(aggregator.flush()).toBeUndefined();
  });

  it('reset drops what was buffered', () => {
    const aggregator = new SentenceAggregator();
    aggregator.push('I was saying som');
    aggregator.reset();
    expect(aggregator.push('New reply. ')).toEqual(['New reply.']);
    expect(aggregator.flush()).toBeUndefined();
  });
});

describe('SentenceAggregator: markdown', () => {
  it('removes emphasis, inline code, links and images, keeping the words', () => {
    expect(byChar('Call **now** or *later*, _maybe_ __never__. ')).toEqual(['Call now or later, maybe never.']);
    expect(byChar('Run `npm test` first. ')).toEqual(['Run npm test first.']);
    expect(byChar('See [our site](https://example.com/help?a=1). ')).toEqual(['See our site.']);
    expect(byChar('Look: ![a map](https://x.io/m.png) here. ')).toEqual(['Look: a map here.']);
    expect(byChar('That is ~~wrong~~ right. ')).toEqual(['That is wrong right.']);
  });

  it('removes headings and bullets at line starts', () => {
    expect(byChar('# Opening hours\n## Weekdays\n- Monday\n* Tuesday\n+ Wednesday\n• Thursday')).toEqual([
      'Opening hours',
      'Weekdays',
      'Monday',
      'Tuesday',
      'Wednesday',
      'Thursday',
    ]);
  });

  it('does not speak a fenced code block, even streamed line by line', () => {
    const text = 'Here is how:\n```js\nconst a = 1;\nconsole.log(a);\n```\nThat is it.';
    expect(byChar(text)).toEqual(['Here is how:', 'That is it.']);
    expect(whole(text)).toEqual(['Here is how:', 'That is it.']);
    expect(byChar('Code: ```x = 1. y = 2.``` Done. Ok.')).toEqual(['Code: Done.', 'Ok.']);
  });

  it('a code block left open at the end of the response is not spoken either', () => {
    expect(byChar('Cut short:\n```\nprint(1)\nprint(2)')).toEqual(['Cut short:']);
  });

  it('split markdown is still removed when a sentence ends inside it', () => {
    expect(byChar('**Note. This** matters.')).toEqual(['Note.', 'This matters.']);
  });
});

describe('SentenceAggregator: what a phone line needs kept', () => {
  it('keeps snake_case identifiers', () => {
    expect(byChar('Your order_id is on the receipt. ')).toEqual(['Your order_id is on the receipt.']);
  });

  it('keeps "#" (the hash/pound key) outside headings', () => {
    expect(byChar('Press # to repeat. Enter your PIN, then #. ')).toEqual(['Press # to repeat.', 'Enter your PIN, then #.']);
    expect(byChar('Okay. # to cancel.')).toEqual(['Okay.', '# to cancel.']);
    expect(byChar('Room #12 is free.')).toEqual(['Room #12 is free.']);
  });

  it('keeps "*" (the star key), alone or in a key sequence, but not as markup', () => {
    expect(byChar('Press * to go back. ')).toEqual(['Press * to go back.']);
    expect(byChar('To go back, press *. ')).toEqual(['To go back, press *.']);
    expect(byChar('Dial *99# for your balance, or *123*1# for offers. ')).toEqual([
      'Dial *99# for your balance, or *123*1# for offers.',
    ]);
    expect(byChar('To repeat, press 9. * takes you back.')).toEqual(['To repeat, press 9.', '* takes you back.']);
    expect(byChar('Stray* asterisks* go. ')).toEqual(['Stray asterisks go.']);
  });
});

describe('cleanForSpeech', () => {
  it('collapses white space and trims', () => {
    expect(cleanForSpeech('  a \n\t b  ')).toBe('a b');
    expect(cleanForSpeech('')).toBe('');
  });

  it('treats the text start as a line start unless told otherwise', () => {
    expect(cleanForSpeech('# Title')).toBe('Title');
    expect(cleanForSpeech('# to cancel', false)).toBe('# to cancel');
    expect(cleanForSpeech('- item')).toBe('item');
    expect(cleanForSpeech('2. Next', false)).toBe('2. Next');
    expect(cleanForSpeech('intro\n- item', false)).toBe('intro item');
  });
});

describe('SentenceAggregator: properties', () => {
  const tokens = [
    'Hello', 'world', 'Dr.', 'Mr.', 'e.g.', 'i.e.', 'a.m.', 'J.', 'No.', '5', '3.5', '42', '.', '!', '?', '...', '…',
    ' ', ' ', ' ', '\n', '\n', '1.', '2)', '- ', '* ', '**', '*', '_', '`', '```', '#', '# ', 'order_id',
    '[link](http://x.com/a)', '![img](a.png)', ',', 'press *', '*99#', '~~',
  ];
  const text = fc.array(fc.constantFrom(...tokens), { maxLength: 60 }).map((parts) => parts.join(''));

  /** Cuts a text at random places. */
  const chunked = text.chain((t) =>
    fc
      .uniqueArray(fc.integer({ min: 1, max: Math.max(1, t.length - 1) }), { maxLength: Math.min(20, t.length) })
      .map((cuts) => {
        const points = [0, ...cuts.filter((c) => c < t.length).sort((a, b) => a - b), t.length];
        return { text: t, pieces: points.slice(1).map((end, i) => t.slice(points[i], end)) };
      }),
  );

  it('streaming in random chunks yields the same sentences as one push', () => {
    fc.assert(
      fc.property(chunked, ({ text: t, pieces }) => {
        expect(pieces.join('')).toBe(t);
        expect(speak(pieces)).toEqual(whole(t));
      }),
      { numRuns: 500 },
    );
  });

  it('plain sentences come out exactly as they went in', () => {
    const word = fc.constantFrom('hello', 'there', 'your', 'order', 'ships', 'today', 'thanks', 'for', 'calling', 'we');
    const sentence = fc
      .tuple(fc.array(word, { minLength: 1, maxLength: 6 }), fc.constantFrom('.', '!', '?'))
      .map(([words, end]) => {
        const joined = words.join(' ');
        return `${joined[0]!.toUpperCase()}${joined.slice(1)}${end}`;
      });
    fc.assert(
      fc.property(fc.array(sentence, { minLength: 1, maxLength: 8 }), fc.constantFrom(' ', '\n', '  '), (sentences, gap) => {
        expect(byChar(sentences.join(gap))).toEqual(sentences);
      }),
      { numRuns: 200 },
    );
  });

  it('never emits an empty sentence', () => {
    fc.assert(
      fc.property(text, (t) => {
        for (const s of byChar(t)) expect(s.trim()).not.toBe('');
      }),
      { numRuns: 300 },
    );
  });
});
