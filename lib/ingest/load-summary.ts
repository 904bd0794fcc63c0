import type { FileLoadResult } from './load-file.js';

export interface LoadSummary {
  files: number;
  filesLoaded: number;
  filesSkipped: number;
  filesFailed: number;
  rowsLoaded: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsQuarantined: number;
  quarantinedByReason: Record<string, number>;
  failedFiles: { key: string; error: string }[];
  /** Rows loaded by kind of file (prices, index_levels, intraday, ...), for kinds with any. */
  rowsLoadedByKind: Record<string, number>;
  /** What readers reported about files they loaded (columns ignored, the bar interval, ...). */
  notes: { key: string; notes: string[] }[];
}

export function summarize(results: FileLoadResult[]): LoadSummary {
  const s: LoadSummary = {
    files: results.length,
    filesLoaded: 0,
    filesSkipped: 0,
    filesFailed: 0,
    rowsLoaded: 0,
    rowsInserted: 0,
    rowsUpdated: 0,
    rowsQuarantined: 0,
    quarantinedByReason: {},
    failedFiles: [],
    rowsLoadedByKind: {},
    notes: [],
  };
  for (const r of results) {
    if (r.skipped) s.filesSkipped++;
    else if (r.error) {
      s.filesFailed++;
      s.failedFiles.push({ key: r.key, error: r.error });
    } else s.filesLoaded++;
    s.rowsLoaded += r.rowsLoaded;
    s.rowsInserted += r.rowsInserted;
    s.rowsUpdated += r.rowsUpdated;
    s.rowsQuarantined += r.rowsQuarantined;
    if (r.rowsLoaded > 0) s.rowsLoadedByKind[r.kind] = (s.rowsLoadedByKind[r.kind] ?? 0) + r.rowsLoaded;
    if (r.notes?.length) s.notes.push({ key: r.key, notes: r.notes });
    for (const [reason, n] of Object.entries(r.quarantineReasons)) {
      if (reason.startsWith('file not loaded')) continue;
      s.quarantinedByReason[reason] = (s.quarantinedByReason[reason] ?? 0) + n;
    }
  }
  return s;
}

export function formatSummary(s: LoadSummary): string {
  const lines = [
    `files: ${s.files} (${s.filesLoaded} loaded, ${s.filesSkipped} unchanged and skipped, ${s.filesFailed} not readable)`,
    `rows loaded: ${s.rowsLoaded} (${s.rowsInserted} new, ${s.rowsUpdated} updated)`,
    // By kind only when files of more than one kind loaded rows.
    ...(Object.keys(s.rowsLoadedByKind).length > 1
      ? Object.entries(s.rowsLoadedByKind).map(([kind, n]) => `  ${String(n).padStart(7)}  ${kind}`)
      : []),
    `rows quarantined: ${s.rowsQuarantined}`,
    ...Object.entries(s.quarantinedByReason)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => `  ${String(n).padStart(7)}  ${reason}`),
    ...s.failedFiles.map((f) => `not loaded: ${f.key}: ${withoutKey(f.key, f.error)}`),
  ];
  // What readers said about files (the bar interval, columns ignored), one line per file.
  for (const n of s.notes) lines.push(`note: ${n.key}: ${n.notes.join('; ')}`);
  return lines.join('\n');
}

/** An error that already starts with its file's key, without it (the line names the key once). */
function withoutKey(key: string, error: string): string {
  return error.startsWith(`${key}: `) ? error.slice(key.length + 2) : error;
}
