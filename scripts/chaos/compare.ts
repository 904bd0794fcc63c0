/**
 * Pure comparison of a scenario's final state with its fault-free reference: warehouse tables row
 * by row on their natural keys, object-store keys by content hash, and the streamed-bar archive bar
 * by bar. No I/O here; snapshot.ts takes the snapshots.
 */

/** One row (or streamed bar) reduced to its natural key and a hash of its stable content. */
export interface KeyedRow {
  key: string;
  hash: string;
}

export interface Snapshot {
  /** `SCHEMA.TABLE` → rows. Tables without a natural key use the content hash as the key. */
  tables: Record<string, KeyedRow[]>;
  /** Object key → content hash (run-specific prefixes and the streaming archive excluded). */
  objects: Record<string, string>;
  /** Bars of the streaming archive (`streaming/…` NDJSON files), keyed by symbol, interval and bar time. */
  bars: KeyedRow[];
}

export interface PartDiff {
  /** Keys of the reference that the run lacks. */
  lost: number;
  /** Keys the run has and the reference does not. */
  extra: number;
  /** Keys both have with different content. */
  changed: number;
  /** Rows beyond the first for a natural key that occurs more than once in the run. */
  repeated: number;
  /** A few example keys per kind of difference. */
  examples: string[];
}

export interface SnapshotDiff {
  /** `table:SCHEMA.TABLE`, `objects`, `bars` → difference, only parts that differ. */
  parts: Record<string, PartDiff>;
  /** Rows, objects and bars of the run. */
  size: number;
  /** Reference items missing or different in the run. */
  lost: number;
  /** Items the run has beyond the reference, plus repeated natural keys. */
  duplicates: number;
}

const EXAMPLES = 3;

export function diffKeyed(ref: KeyedRow[], run: KeyedRow[]): PartDiff {
  const refMap = new Map<string, string>();
  for (const r of ref) if (!refMap.has(r.key)) refMap.set(r.key, r.hash);
  const runMap = new Map<string, string>();
  let repeated = 0;
  const examples: string[] = [];
  const note = (what: string, key: string) => {
    if (examples.filter((e) => e.startsWith(what)).length < EXAMPLES) examples.push(`${what} ${key}`);
  };
  for (const r of run) {
    if (runMap.has(r.key)) {
      repeated++;
      note('repeated', r.key);
    } else runMap.set(r.key, r.hash);
  }
  let lost = 0;
  let changed = 0;
  for (const [key, hash] of refMap) {
    const got = runMap.get(key);
    if (got === undefined) {
      lost++;
      note('lost', key);
    } else if (got !== hash) {
      changed++;
      note('changed', key);
    }
  }
  let extra = 0;
  for (const key of runMap.keys()) {
    if (!refMap.has(key)) {
      extra++;
      note('extra', key);
    }
  }
  return { lost, extra, changed, repeated, examples };
}

export function compareSnapshots(ref: Snapshot, run: Snapshot): SnapshotDiff {
  const parts: Record<string, PartDiff> = {};
  const add = (name: string, d: PartDiff) => {
    if (d.lost + d.extra + d.changed + d.repeated > 0) parts[name] = d;
  };
  for (const table of new Set([...Object.keys(ref.tables), ...Object.keys(run.tables)]).values()) {
    add(`table:${table}`, diffKeyed(ref.tables[table] ?? [], run.tables[table] ?? []));
  }
  const asRows = (o: Record<string, string>) => Object.entries(o).map(([key, hash]) => ({ key, hash }));
  add('objects', diffKeyed(asRows(ref.objects), asRows(run.objects)));
  add('bars', diffKeyed(ref.bars, run.bars));
  let lost = 0;
  let duplicates = 0;
  for (const d of Object.values(parts)) {
    lost += d.lost + d.changed;
    duplicates += d.extra + d.repeated;
  }
  const size =
    Object.values(run.tables).reduce((n, rows) => n + rows.length, 0) +
    Object.keys(run.objects).length +
    run.bars.length;
  return { parts, size, lost, duplicates };
}

/** One line per differing part, e.g. `table:RAW.STREAM_BARS lost 3 (lost COMI|5m|…)`. */
export function describeDiff(d: SnapshotDiff): string[] {
  return Object.entries(d.parts).map(([name, p]) => {
    const counts = (['lost', 'changed', 'extra', 'repeated'] as const)
      .filter((k) => p[k] > 0)
      .map((k) => `${k} ${p[k]}`)
      .join(', ');
    return `${name}: ${counts}${p.examples.length ? ` (${p.examples.join('; ')})` : ''}`;
  });
}
