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

const splitPlain = (line: string) => line.split(',').map((c) => c.trim());

function splitQuoted(text: string): string[] {
  const records: string[][] = parseSync(text, { relax_column_count: true, relax_quotes: true, trim: true });
  return records[0] ?? [];
}

const quotes = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
};

/**
 * Streams CSV records from bytes in any of the encodings above, tolerating quoted and unquoted
 * cells, BOMs, `\r\n`, `\n`, `\r` and the reversed `\n\r` line ends, and ragged rows (checked later).
 * Lines without quotes are split directly (the common case, and fast); lines with quotes go through
 * csv-parse, joined with the next line while a quoted field is still open. Blank lines are not records.
 */
export async function* readCsv(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<CsvRecord> {
  let pending = '';
  let lineNo = 0;
  let open: string | undefined; // a record whose quoted field continues on the next line
  let first = true;
  const emit = (text: string): CsvRecord | undefined => {
    lineNo++;
    if (open !== undefined) {
      open += `\n${text}`;
      if (quotes(open) % 2 === 1) return undefined;
      const record = { line: lineNo, cells: splitQuoted(open) };
      open = undefined;
      return record;
    }
    if (text.trim() === '') return undefined;
    if (!text.includes('"')) return { line: lineNo, cells: splitPlain(text) };
    if (quotes(text) % 2 === 1) {
      open = text;
      return undefined;
    }
    return { line: lineNo, cells: splitQuoted(text) };
  };
  const nonBlank = (r: CsvRecord | undefined): r is CsvRecord =>
    r !== undefined && r.cells.some((c) => c !== '');

  for await (let chunk of decodeText(input)) {
    if (first) {
      chunk = chunk.replace(/^\uFEFF/, '');
      first = false;
    }
    pending += chunk;
    let start = 0;
    for (;;) {
      const nl = pending.indexOf('\n', start);
      const cr = pending.indexOf('\r', start);
      const end = nl < 0 ? cr : cr < 0 ? nl : Math.min(nl, cr);
      // A line end at the very end of the buffer may be half of a two-character one: wait for more.
      if (end < 0 || end === pending.length - 1) break;
      const pair =
        pending[end + 1] !== pending[end] && (pending[end + 1] === '\n' || pending[end + 1] === '\r');
      const r = emit(pending.slice(start, end));
      if (nonBlank(r)) yield r;
      start = end + (pair ? 2 : 1);
    }
    pending = pending.slice(start);
  }
  for (const text of pending.split(/\n\r|\r\n|\n|\r/)) {
    const r = emit(text);
    if (nonBlank(r)) yield r;
  }
  if (open !== undefined) yield { line: lineNo, cells: splitQuoted(open) };
}
