import { TextDecoder } from 'node:util';
import { parse as parseSync } from 'csv-parse/sync';

/**
 * Picks the text encoding from the first bytes: UTF-8 (with or without BOM) when they decode as
 * UTF-8, otherwise Windows-1256, the Arabic code page EGX broker exports use.
 */
export function sniffEncoding(first: Uint8Array): 'utf-8' | 'windows-1256' {
  if (first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf) return 'utf-8';
  // Only judge complete lines: a chunk can end inside a multi-byte character.
  const lastNewline = first.lastIndexOf(0x0a);
  const sample =
    lastNewline > 0 ? first.subarray(0, lastNewline) : first.subarray(0, Math.max(0, first.length - 4));
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return 'utf-8';
  } catch {
    return 'windows-1256';
  }
}

/** Decodes a byte stream to text chunks, choosing the encoding from its start. */
export async function* decodeText(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  for await (const chunk of input) {
    if (typeof chunk === 'string') {
      yield chunk;
      continue;
    }
    decoder ??= new TextDecoder(sniffEncoding(chunk));
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder?.decode();
  if (rest) yield rest;
}

export interface CsvRecord {
  /** 1-based line number in the file where the record ends. */
  line: number;
  /** Cells with surrounding whitespace (and stray carriage returns) removed. */
  cells: string[];
}

function splitPlain(line: string): string[] {
  const cells = line.split(',');
  for (let i = 0; i < cells.length; i++) cells[i] = cells[i]!.trim();
  return cells;
}

function splitQuoted(text: string): string[] {
  const records: string[][] = parseSync(text, { relax_column_count: true, relax_quotes: true, trim: true });
  return records[0] ?? [];
}

const isBlank = (c: string) => c === ' ' || c === '\t';

/**
 * One line with quoted cells, split as csv-parse would (see splitQuoted) for the common shapes:
 * whole cells in quotes with `""` for a quote, spaces or tabs around them, unquoted cells without
 * quotes. Anything else (a quote inside an unquoted cell, text after a closing quote, other white
 * space at a cell's edge) returns undefined, for csv-parse to read or refuse.
 */
export function splitQuotedLine(s: string): string[] | undefined {
  const out: string[] = [];
  const n = s.length;
  let i = 0;
  for (;;) {
    let j = i;
    while (j < n && isBlank(s[j]!)) j++;
    if (s[j] === '"') {
      let value = '';
      let from = j + 1;
      let k = from;
      for (;;) {
        const q = s.indexOf('"', k);
        if (q < 0) return undefined;
        if (s[q + 1] === '"') {
          value += s.slice(from, q + 1);
          k = from = q + 2;
          continue;
        }
        value += s.slice(from, q);
        k = q + 1;
        break;
      }
      while (k < n && isBlank(s[k]!)) k++;
      out.push(value);
      if (k === n) return out;
      if (s[k] !== ',') return undefined;
      i = k + 1;
    } else {
      const comma = s.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      let a = i;
      let b = end;
      while (a < b && isBlank(s[a]!)) a++;
      while (b > a && isBlank(s[b - 1]!)) b--;
      const cell = s.slice(a, b);
      if (cell.includes('"') || cell.trim() !== cell) return undefined;
      out.push(cell);
      if (comma < 0) return out;
      i = comma + 1;
    }
  }
}

const quotes = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
};

/**
 * Splits text into CSV records as it arrives (see readCsv): `push` each decoded chunk and take the
 * records it completed, then `end` for the rest.
 */
export class CsvSplitter {
  private pending = '';
  private lineNo = 0;
  private open: string | undefined; // a record whose quoted field continues on the next line
  private first = true;

  private emit(text: string, out: CsvRecord[]): void {
    this.lineNo++;
    if (this.open !== undefined) {
      this.open += `\n${text}`;
      if (quotes(this.open) % 2 === 1) return;
      const cells = splitQuoted(this.open);
      this.open = undefined;
      this.add(cells, out);
      return;
    }
    if (!text.includes('"')) {
      if (text.trim() !== '') this.add(splitPlain(text), out);
      return;
    }
    if (quotes(text) % 2 === 1) {
      this.open = text;
      return;
    }
    this.add(splitQuotedLine(text) ?? splitQuoted(text), out);
  }

  /** Blank lines and lines of empty cells are not records. */
  private add(cells: string[], out: CsvRecord[]): void {
    for (const c of cells)
      if (c !== '') {
        out.push({ line: this.lineNo, cells });
        return;
      }
  }

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.first) {
      chunk = chunk.replace(/^\uFEFF/, '');
      this.first = false;
    }
    const text = this.pending + chunk;
    let start = 0;
    // The next \n and \r at or after `start`, each searched again only once passed (-1: none left).
    let nl = text.indexOf('\n');
    let cr = text.indexOf('\r');
    for (;;) {
      if (nl >= 0 && nl < start) nl = text.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
      const end = nl < 0 ? cr : cr < 0 ? nl : Math.min(nl, cr);
      // A line end at the very end of the buffer may be half of a two-character one: wait for more.
      if (end < 0 || end === text.length - 1) break;
      const next = text[end + 1];
      const pair = next !== text[end] && (next === '\n' || next === '\r');
      this.emit(text.slice(start, end), out);
      start = end + (pair ? 2 : 1);
    }
    this.pending = text.slice(start);
    return out;
  }

  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (const text of this.pending.split(/\n\r|\r\n|\n|\r/)) this.emit(text, out);
    this.pending = '';
    if (this.open !== undefined) {
      out.push({ line: this.lineNo, cells: splitQuoted(this.open) });
      this.open = undefined;
    }
    return out;
  }
}

/**
 * Streams CSV records from bytes in any of the encodings above, tolerating quoted and unquoted
 * cells, BOMs, `\r\n`, `\n`, `\r` and the reversed `\n\r` line ends, and ragged rows (checked later).
 * Lines without quotes are split directly (the common case, and fast); lines with quotes too, when
 * each quoted cell is a whole cell (splitQuotedLine), else by csv-parse, joined with the next line
 * while a quoted field is still open. Blank lines are not records. Yields the records each chunk
 * of input completes, as one array.
 */
export async function* readCsvBatches(
  input: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<CsvRecord[]> {
  const splitter = new CsvSplitter();
  for await (const chunk of decodeText(input)) {
    const records = splitter.push(chunk);
    if (records.length > 0) yield records;
  }
  const rest = splitter.end();
  if (rest.length > 0) yield rest;
}

/** readCsvBatches, one record at a time. */
export async function* readCsv(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<CsvRecord> {
  for await (const records of readCsvBatches(input)) yield* records;
}

/** The first records of a CSV (see readCsvHead) and a stream of the ones after them. */
export interface CsvHead {
  /** The header record and the data records read with it: at least `rows` of them unless the file is shorter. */
  records: CsvRecord[];
  /** The records after `records`, in arrays as the input completes them. */
  rest: AsyncGenerator<CsvRecord[]>;
}

/**
 * Reads a CSV (as readCsvBatches) until it has the header and at least `rows` data records, to
 * tell its layout before reading on; `rest` gives the remaining records.
 */
export async function readCsvHead(input: AsyncIterable<Uint8Array | string>, rows = 1): Promise<CsvHead> {
  const all = readCsvBatches(input);
  const records: CsvRecord[] = [];
  let done = false;
  while (records.length < rows + 1 && !done) {
    const next = await all.next();
    if (next.done) done = true;
    else records.push(...next.value);
  }
  async function* rest(): AsyncGenerator<CsvRecord[]> {
    if (!done) yield* all;
  }
  return { records, rest: rest() };
}
