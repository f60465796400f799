import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SSEDecoder, type ServerSentEvent } from '../../../src/services/base/sse-decoder.js';

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

function decodeAll(chunks: Uint8Array[]): ServerSentEvent[] {
  const decoder = new SSEDecoder();
  const events: ServerSentEvent[] = [];
  for (const chunk of chunks) events.push(...decoder.push(chunk));
  events.push(...decoder.end());
  return events;
}

/** `bytes` cut at the given offsets (sorted, deduplicated, inside the array). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    out.push(bytes.subarray(start, p));
    start = p;
  }
  out.push(bytes.subarray(start));
  return out;
}

describe('SSEDecoder', () => {
  it('reads event and data fields, joins data lines, ignores comments and unknown fields', () => {
    const text = ': keep-alive\n\nevent: message_start\ndata: {"a":1}\n\ndata: line one\ndata:line two\nretry: 10\nfoo: bar\n\n';
    expect(decodeAll([utf8(text)])).toEqual([
      { event: 'message_start', data: '{"a":1}' },
      { event: 'message', data: 'line one\nline two' },
    ]);
  });

  it('handles LF, CRLF and lone CR line ends, even mixed', () => {
    const text = 'event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n';
    expect(decodeAll([utf8(text)])).toEqual([
      { event: 'a', data: '1' },
      { event: 'b', data: '2' },
      { event: 'message', data: '3' },
    ]);
  });

  it('a CRLF split between two chunks is one line end, not two', () => {
    // Were the split CRLF read as CR + LF, the LF would be an empty line dispatching `data: x` early.
    const events = decodeAll([utf8('data: x\r'), utf8('\ndata: y\r\n\r\n')]);
    expect(events).toEqual([{ event: 'message', data: 'x\ny' }]);
  });

  it('a multi-byte character split across chunks is decoded whole', () => {
    const bytes = utf8('data: 日本👋é\n\n');
    const at = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
    expect(decodeAll([bytes.subarray(0, 8), bytes.subarray(8, at), bytes.subarray(at)])).toEqual([{ event: 'message', data: '日本👋é' }]);
  });

  it('drops an event cut off by the end of the body, and strips a leading BOM', () => {
    expect(decodeAll([utf8('\uFEFFdata: whole\n\ndata: half')])).toEqual([{ event: 'message', data: 'whole' }]);
  });

  it('keeps the last id; a value keeps everything after one leading space', () => {
    expect(decodeAll([utf8('id: 7\ndata:  two spaces\n\ndata: x\n\n')])).toEqual([
      { event: 'message', data: ' two spaces', id: '7' },
      { event: 'message', data: 'x', id: '7' },
    ]);
  });

  it('any split of any stream, with any line-end style, decodes to the same events', () => {
    const eventArb = fc.record({
      event: fc.option(fc.constantFrom('message_start', 'content_block_delta', 'ping'), { nil: undefined }),
      data: fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)), { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(), { maxLength: 12 }),
        (events, eol, offsets) => {
          const text = events
            .map((e) => `${e.event === undefined ? '' : `event: ${e.event}${eol}`}${e.data.map((d) => `data: ${d}${eol}`).join('')}${eol}`)
            .join('');
          const expected = events.map((e) => ({ event: e.event ?? 'message', data: e.data.join('\n') }));
          expect(decodeAll(cut(utf8(text), offsets))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
