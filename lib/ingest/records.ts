import type { SqlValue, TableDef } from '../warehouse/types.js';

/** A row of a batch file after parsing: values for the target table, or why it cannot load. */
export type LoadRecord =
  { ok: true; line: number; values: SqlValue[] } | { ok: false; line: number; reason: string; raw: string };

/** How one kind of batch file is read: its target table and a streaming parser. */
export interface FileKindReader {
  kind: string;
  table: TableDef;
  /** Target columns the parser fills, in order (lineage columns are added by the loader). */
  columns: string[];
  /** Reads the header; then `records` gives the rows in file order, in arrays of any size. */
  open(input: AsyncIterable<Uint8Array | string>, key: string): Promise<OpenedFile>;
}

/** A file as a reader opened it. */
export interface OpenedFile {
  format: string;
  records: AsyncIterable<LoadRecord[]>;
  /**
   * Set when the content shows the file is of another kind than its reader's (daily price files
   * that turn out to be intraday bars or index levels): that kind, its table and its columns.
   */
  kind?: string;
  table?: TableDef;
  columns?: string[];
  /** What the load reports about the file (columns ignored, values read as missing, the bar interval); complete once `records` is read. */
  notes?: string[];
}

/** Groups records one at a time into arrays of up to `size`, for FileKindReader.open. */
export async function* inBatches<T>(records: AsyncIterable<T>, size = 1000): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const r of records) {
    batch.push(r);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Thrown by a reader when a whole file cannot be read (unknown layout, broken encoding); the file is quarantined, not retried. */
export class FileUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileUnreadableError';
  }
}
