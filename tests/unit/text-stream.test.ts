import { parse } from 'csv-parse/sync';
import { describe, expect, test } from 'vitest';
import { readCsv, splitQuotedLine, type CsvRecord } from '../../lib/ingest/text-stream.js';

async function records(chunks: (string | Uint8Array)[]): Promise<CsvRecord[]> {
  async function* input() {
    yield* chunks;
  }
  const out: CsvRecord[] = [];
  for await (const r of readCsv(input())) out.push(r);
  return out;
}

/** The same text cut into pieces of `size` characters, as a stream may deliver it. */
const pieces = (text: string, size: number) =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

describe('reading CSV text', () => {
  test('every line end (\\n, \\r\\n, \\r and the reversed \\n\\r) ends a line; blank lines are skipped but counted', async () => {
    const text = 'h1,h2\n\ra,1\n\rb,2\r\nc,3\n\nd,4\re,5\n\r';
    const want = [
      { line: 1, cells: ['h1', 'h2'] },
      { line: 2, cells: ['a', '1'] },
      { line: 3, cells: ['b', '2'] },
      { line: 4, cells: ['c', '3'] },
      { line: 6, cells: ['d', '4'] },
      { line: 7, cells: ['e', '5'] },
    ];
    expect(await records([text])).toEqual(want);
    // However the stream cuts it, even between the two characters of a line end.
    for (const size of [1, 2, 3, 5, 7]) expect(await records(pieces(text, size))).toEqual(want);
  });

  test('quoted cells: commas and doubled quotes inside, a quoted cell over two lines, a BOM', async () => {
    const text = '\uFEFF"Date","Vol."\n"Jun 23, 2024","1,234"\n"say ""hi""",x\n"two\nlines",y\n';
    expect(await records(pieces(text, 4))).toEqual([
      { line: 1, cells: ['Date', 'Vol.'] },
      { line: 2, cells: ['Jun 23, 2024', '1,234'] },
      { line: 3, cells: ['say "hi"', 'x'] },
      { line: 5, cells: ['two\nlines', 'y'] },
    ]);
  });

  test('a quoted line is split as csv-parse splits it, or left to csv-parse', () => {
    // Random lines from the characters that matter: each one split directly must match csv-parse.
    const alphabet = ['"', '"', ',', ',', ' ', '\t', 'a', '1', '.', '\u00a0', '""'];
    let x = 7;
    const rnd = (n: number) => (x = (x * 1103515245 + 12345) % 2147483648) % n;
    let direct = 0;
    for (let t = 0; t < 20_000; t++) {
      let line = '"';
      for (let i = rnd(10); i >= 0; i--) line += alphabet[rnd(alphabet.length)];
      const got = splitQuotedLine(line);
      if (got === undefined) continue;
      direct++;
      const records: string[][] = parse(line, { relax_column_count: true, relax_quotes: true, trim: true });
      const want = records[0];
      expect(got, JSON.stringify(line)).toEqual(want);
    }
    expect(direct).toBeGreaterThan(1000);
    // What csv-parse refuses is never split directly.
    expect(splitQuotedLine('"a"b,c')).toBeUndefined();
    expect(splitQuotedLine('x,"open')).toBeUndefined();
  });
});
