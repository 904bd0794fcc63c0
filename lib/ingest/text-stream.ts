import { TextDecoder } from 'node:util';
import { Readable } from 'node:stream';
import { parse, type Options } from 'csv-parse';

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

/**
 * Streams CSV records from bytes in any of the encodings above, tolerating quoted and unquoted
 * cells, BOMs, `\r\n`, `\n` and the reversed `\n\r` line ends, and ragged rows (checked later).
 * Blank lines are not records.
 */
export async function* readCsv(
  input: AsyncIterable<Uint8Array | string>,
  options: Options = {},
): AsyncGenerator<CsvRecord> {
  const parser = Readable.from(decodeText(input)).pipe(
    parse({
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      info: true,
      // Longest first, so the reversed '\n\r' of the Arabic exports is one line end, not two.
      record_delimiter: ['\n\r', '\r\n', '\n', '\r'],
      ...options,
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    const cells = record.map((c) => c.trim());
    if (cells.every((c) => c === '')) continue;
    yield { line: info.lines, cells };
  }
}
