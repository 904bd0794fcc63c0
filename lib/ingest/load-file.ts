import { objectKeyProblem } from '../lake/keys.js';
import type { ObjectStore } from '../lake/types.js';
import { LOADED_FILES, QUARANTINE } from '../warehouse/schema.js';
import type { SqlValue, Warehouse } from '../warehouse/types.js';
import { CsvError } from 'csv-parse';
import { FileUnreadableError, type FileKindReader } from './records.js';

export interface LoadDeps {
  /** Where the file is read from. */
  store: ObjectStore;
  /** Where quarantine files are written (default: `store`). */
  lake?: ObjectStore;
  warehouse: Warehouse;
}

export interface LoadProgress {
  key: string;
  rowsRead: number;
  rowsLoaded: number;
  rowsQuarantined: number;
}

export interface FileLoadResult {
  key: string;
  kind: string;
  etag: string;
  format?: string;
  /** True when the manifest already had this exact content. */
  skipped: boolean;
  rowsLoaded: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsQuarantined: number;
  /** Quarantined rows by reason (numbers in reasons are kept; reasons are short). */
  quarantineReasons: Record<string, number>;
  /** Set when the whole file could not be read (it is quarantined as line 0). */
  error?: string;
  /** What the reader reports about the file: columns it ignored, values it read as missing, the bar interval. */
  notes?: string[];
}

export interface LoadFileOptions {
  runId: string;
  /** Reload even when the manifest says the content is unchanged. */
  force?: boolean;
  batchSize?: number;
  onProgress?: (p: LoadProgress) => void;
  now?: () => Date;
  /** Aborting it stops the load before its next batch (rejecting with the abort's reason); rows already upserted stay, the manifest is not written. */
  signal?: AbortSignal;
}

/** The quarantine object for one source file of one run: `quarantine/<run-id>/<source-name>.ndjson`. */
export function quarantineKey(runId: string, key: string): string {
  return `quarantine/${runId}/${key.replace(/\//g, '__')}.ndjson`;
}

/** Groups a reason like "close: must be > 0, got 0" under "close: must be > 0". */
export function reasonClass(reason: string): string {
  return reason
    .replace(/, got .*$/, '')
    .replace(/ \(also on line \d+\)$/, '')
    .replace(/^(\w+): bar start .* is off the (\w+) grid$/, '$1: bar start off the $2 grid')
    .replace(/ "[^"]*"$/, '')
    .replace(/^duplicate (date|symbol|bar) .*$/, 'duplicate $1')
    .replace(/^symbol: .* is not an EGX ticker: .*$/, 'symbol: not an EGX ticker')
    .replace(/^high .* < low .*$/, 'high < low');
}

/** A file's result before anything is loaded from it (or when it is skipped, with `skipped: true`). */
export const emptyResult = (key: string, kind: string, etag: string): FileLoadResult => ({
  key,
  kind,
  etag,
  skipped: false,
  rowsLoaded: 0,
  rowsInserted: 0,
  rowsUpdated: 0,
  rowsQuarantined: 0,
  quarantineReasons: {},
});

/**
 * Loads one file from the object store into the warehouse, idempotently: rows are upserted on the
 * table's natural key in batches, bad rows go to quarantine (object store + META.QUARANTINE) with
 * their line and reason, and the manifest is written last, so a crash before it means a clean
 * reload. An unchanged file (same etag) is skipped unless `force`.
 */
export async function loadFile(
  deps: LoadDeps,
  reader: FileKindReader,
  key: string,
  opts: LoadFileOptions,
): Promise<FileLoadResult> {
  const { store, warehouse } = deps;
  const now = opts.now ?? (() => new Date());
  // A key no store accepts (written by some other tool): reported by name, nothing to read or record.
  const badKey = objectKeyProblem(key);
  if (badKey) return { ...emptyResult(key, reader.kind, ''), error: badKey };
  const info = await store.head(key);
  if (!info) throw new Error(`${store.location}: no file at ${key}`);
  const result = emptyResult(key, reader.kind, info.etag);
  if (!opts.force) {
    const [seen] = await warehouse.query<{ ETAG: string }>(
      `SELECT ETAG FROM META.LOADED_FILES WHERE SOURCE_KEY = ?`,
      [key],
    );
    if (seen?.ETAG === info.etag) return { ...result, skipped: true };
  }

  const loadedAt = now();
  // The file's reader may find by its content that it belongs in another table (see OpenedFile).
  let table = reader.table;
  let columns: string[] = [];
  const quarantined: QuarantineEntry[] = [];
  let batch: SqlValue[][] = [];
  let rowsRead = 0;
  let notes: string[] | undefined;
  const flush = async () => {
    opts.signal?.throwIfAborted();
    if (batch.length === 0) return;
    const r = await warehouse.upsert(table, columns, batch);
    result.rowsInserted += r.inserted;
    result.rowsUpdated += r.updated;
    result.rowsLoaded += batch.length;
    batch = [];
    opts.onProgress?.({ key, rowsRead, rowsLoaded: result.rowsLoaded, rowsQuarantined: quarantined.length });
  };

  try {
    const opened = await reader.open(await store.get(key), key);
    const { format, records } = opened;
    table = opened.table ?? reader.table;
    columns = [...(opened.columns ?? reader.columns), 'SOURCE_KEY', 'SOURCE_LINE', 'RUN_ID', 'LOADED_AT'];
    result.kind = opened.kind ?? reader.kind;
    result.format = format;
    notes = opened.notes;
    for await (const recs of records) {
      for (const rec of recs) {
        rowsRead++;
        if (rec.ok) {
          rec.values.push(key, rec.line, opts.runId, loadedAt);
          batch.push(rec.values);
          if (batch.length >= (opts.batchSize ?? 50_000)) await flush();
        } else {
          quarantined.push({ line: rec.line, reason: rec.reason, raw: rec.raw });
        }
      }
    }
    await flush();
    if (notes?.length) result.notes = [...notes];
  } catch (e) {
    // Only reading/parsing errors quarantine the file; warehouse or store failures are retried by the caller.
    if (!(e instanceof FileUnreadableError || e instanceof CsvError)) throw e;
    result.error = e.message;
    quarantined.push({ line: 0, reason: `file not loaded: ${e.message}`, raw: '' });
  }

  opts.signal?.throwIfAborted();
  result.rowsQuarantined = quarantined.filter((q) => q.line > 0).length;
  result.quarantineReasons = reasonCounts(quarantined);
  await writeQuarantine(deps.lake ?? store, warehouse, opts.runId, loadedAt, [
    { key, etag: info.etag, entries: quarantined },
  ]);
  await recordLoadedFiles(warehouse, [
    {
      key,
      etag: info.etag,
      kind: result.kind,
      format: result.format,
      rowsLoaded: result.rowsLoaded,
      rowsQuarantined: result.rowsQuarantined,
      error: result.error,
      runId: opts.runId,
      loadedAt,
    },
  ]);
  return result;
}

/** A quarantined line of a file: line 0 stands for the whole file. */
export interface QuarantineEntry {
  line: number;
  reason: string;
  raw: string;
}

/** Quarantined lines by reasonClass. */
export function reasonCounts(entries: QuarantineEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const q of entries) {
    const cls = reasonClass(q.reason);
    counts[cls] = (counts[cls] ?? 0) + 1;
  }
  return counts;
}

/**
 * Writes the quarantined lines of some files: one NDJSON object per file with any
 * (`quarantineKey`), and their rows in META.QUARANTINE.
 */
export async function writeQuarantine(
  lake: ObjectStore,
  warehouse: Warehouse,
  runId: string,
  at: Date,
  files: { key: string; etag: string; entries: QuarantineEntry[] }[],
): Promise<void> {
  const rows: SqlValue[][] = [];
  for (const f of files) {
    if (f.entries.length === 0) continue;
    const ndjson =
      f.entries.map((q) => JSON.stringify({ source: f.key, etag: f.etag, runId, ...q })).join('\n') + '\n';
    await lake.put(quarantineKey(runId, f.key), ndjson, { contentType: 'application/x-ndjson' });
    for (const q of f.entries) rows.push([f.key, f.etag, q.line, q.reason, q.raw, runId, at]);
  }
  if (rows.length === 0) return;
  await warehouse.upsert(
    QUARANTINE,
    ['SOURCE_KEY', 'ETAG', 'LINE', 'REASON', 'RAW', 'RUN_ID', 'QUARANTINED_AT'],
    rows,
  );
}

/** Writes files into the manifest (META.LOADED_FILES): the last step of a load, so a crash before it means a clean reload. */
export async function recordLoadedFiles(
  warehouse: Warehouse,
  files: {
    key: string;
    etag: string;
    kind: string;
    format?: string;
    rowsLoaded: number;
    rowsQuarantined: number;
    error?: string;
    runId: string;
    loadedAt: Date;
  }[],
): Promise<void> {
  await warehouse.upsert(
    LOADED_FILES,
    [
      'SOURCE_KEY',
      'ETAG',
      'KIND',
      'FORMAT',
      'ROWS_LOADED',
      'ROWS_QUARANTINED',
      'ERROR',
      'RUN_ID',
      'LOADED_AT',
    ],
    files.map((f) => [
      f.key,
      f.etag,
      f.kind,
      f.format ?? null,
      f.rowsLoaded,
      f.rowsQuarantined,
      f.error ?? null,
      f.runId,
      f.loadedAt,
    ]),
  );
}
