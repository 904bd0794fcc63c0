/**
 * Batch-load benchmark: generates 250 symbols × 4,000 days of daily bars as per-symbol CSV files in
 * a local object store and loads them into a fresh DuckDB file through the pipeline's own loader,
 * twice, side by side: the plain pass (plain OHLCV files) and the real-format pass (the same number
 * of bars in the vendors' layouts, a quarter each: the Arabic broker export in Windows-1256 with
 * `\n\r` line ends and scientific notation, Investing.com CSV with a BOM, quotes, text dates and
 * K/M volumes, MarketWatch with `..` prices and thousands separators, and Yahoo downloads). Then it
 * times DuckDB's read_csv of the plain files into a table. With `--rounds n` (default 2) both
 * passes run n times, alternating, into fresh warehouses, and the best of each counts, so a busy
 * machine skews the ratio less. Last line: one JSON object.
 *   npm run bench:batch-load [-- --symbols 250 --days 4000 --rounds 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextDecoder } from 'node:util';
import { parseArgs } from 'node:util';
import type { FileLoadResult } from '../lib/ingest/load-file.js';
import { listCsvKeys, loadFiles } from '../lib/ingest/load-many.js';
import { LocalObjectStore } from '../lib/lake/local.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../lib/warehouse/schema.js';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '250' },
    days: { type: 'string', default: '4000' },
    rounds: { type: 'string', default: '2' },
    keep: { type: 'boolean' },
  },
});
const symbols = Number(values.symbols);
const days = Number(values.days);
const rounds = Math.max(1, Number(values.rounds));
const dir = mkdtempSync(join(tmpdir(), 'egx-bench-'));
const plainStore = new LocalObjectStore(join(dir, 'plain'));
const realStore = new LocalObjectStore(join(dir, 'real'));

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);

interface Bar {
  date: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

// Deterministic random walk per symbol (no Math.random, so runs are comparable).
function* walk(seed: number): Generator<Bar> {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  let close = 10 + (seed % 90);
  const start = Date.UTC(2010, 0, 1);
  for (let d = 0; d < days; d++) {
    const open = close;
    close = Math.max(0.5, open * (1 + (rnd() - 0.5) * 0.06));
    const high = Math.max(open, close) * (1 + rnd() * 0.01);
    const low = Math.min(open, close) * (1 - rnd() * 0.01);
    yield { date: new Date(start + d * 86_400_000), open, high, low, close, volume: Math.floor(rnd() * 5e6) };
  }
}

const iso = (d: Date) => d.toISOString().slice(0, 10);
const f2 = (n: number) => n.toFixed(2);

/** Plain OHLCV, oldest first. */
function plainFile(seed: number): string {
  const lines = ['Date,Open,High,Low,Close,Volume'];
  for (const b of walk(seed))
    lines.push(`${iso(b.date)},${f2(b.open)},${f2(b.high)},${f2(b.low)},${f2(b.close)},${b.volume}`);
  return lines.join('\n') + '\n';
}

// Windows-1256 has no encoder in Node: invert its decoder (the Arabic header is the only non-ASCII text).
const cp1256 = new Map<string, number>();
{
  const decoder = new TextDecoder('windows-1256');
  for (let b = 0; b < 256; b++) cp1256.set(decoder.decode(Uint8Array.of(b)), b);
}
const encodeCp1256 = (text: string) =>
  Buffer.from(
    [...text].map((ch) => {
      const b = cp1256.get(ch);
      if (b === undefined) throw new Error(`no Windows-1256 byte for ${JSON.stringify(ch)}`);
      return b;
    }),
  );
/** A two-decimal price as the export writes it from a float32: 52.03, 26.879999. */
const f32 = (n: number) => String(Number(Math.fround(Math.round(n * 100) / 100).toPrecision(8)));
/** Java's Float.toString for large values: 8.55985408E8. */
const sci = (n: number) => n.toExponential(7).toUpperCase().replace('E+', 'E');
const AR_HEADER = 'التاريخ,فتح,أعلى,الأدنى,مغلق,إقفال سابق,التغير %,التغير,قيمة التداول,حجم التداول';

/** The Arabic broker export: Windows-1256, `\n\r` line ends, YYYY/MM/DD, newest first, open = previous close. */
function arExportFile(seed: number): Buffer {
  const bars = [...walk(seed)];
  const lines: string[] = [];
  for (let i = bars.length - 1; i >= 0; i--) {
    const b = bars[i]!;
    const prev = bars[i - 1]?.close ?? b.open;
    const change = b.close - prev;
    lines.push(
      [
        iso(b.date).replace(/-/g, '/'),
        f32(prev),
        f32(b.high),
        f32(b.low),
        f32(b.close),
        f32(prev),
        f2((change / prev) * 100),
        f2(change),
        sci(b.close * b.volume),
        b.volume,
      ].join(','),
    );
  }
  return Buffer.concat([encodeCp1256(AR_HEADER), Buffer.from(`\n\r${lines.join('\n\r')}\n\r`, 'latin1')]);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const kmVolume = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(2)}K`);

/** Investing.com CSV: BOM, every cell quoted, "Jun 23, 2024" dates, Price as close, K/M volumes, % changes, newest first. */
function investingFile(seed: number): string {
  const bars = [...walk(seed)];
  const lines = ['\uFEFF"Date","Price","Open","High","Low","Vol.","Change %"'];
  for (let i = bars.length - 1; i >= 0; i--) {
    const b = bars[i]!;
    const prev = bars[i - 1]?.close ?? b.open;
    const d = b.date;
    const date = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')}, ${d.getUTCFullYear()}`;
    const cells = [date, f2(b.close), f2(b.open), f2(b.high), f2(b.low), kmVolume(b.volume)];
    lines.push(`${cells.map((c) => `"${c}"`).join(',')},"${f2(((b.close - prev) / prev) * 100)}%"`);
  }
  return lines.join('\n') + '\n';
}

const mmddyyyy = (d: Date) =>
  `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/${d.getUTCFullYear()}`;
const thousands = (v: number) => v.toLocaleString('en-US');

/** MarketWatch download: MM/DD/YYYY, quoted `..`-prefixed prices, volumes with thousands separators, newest first. */
function marketWatchFile(seed: number): string {
  const bars = [...walk(seed)];
  const lines = ['Date,Open,High,Low,Close,Volume'];
  for (let i = bars.length - 1; i >= 0; i--) {
    const b = bars[i]!;
    const p = (n: number) => `"..${f2(n)}"`;
    lines.push(
      `${mmddyyyy(b.date)},${p(b.open)},${p(b.high)},${p(b.low)},${p(b.close)},"${thousands(b.volume)}"`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Yahoo download: Adj Close beside Close, full float precision, oldest first. */
function yahooFile(seed: number): string {
  const lines = ['Date,Open,High,Low,Close,Adj Close,Volume'];
  for (const b of walk(seed))
    lines.push(`${iso(b.date)},${b.open},${b.high},${b.low},${b.close},${b.close * 0.97},${b.volume}`);
  return lines.join('\n') + '\n';
}

const LAYOUTS = [arExportFile, investingFile, marketWatchFile, yahooFile];

const t0 = performance.now();
for (let s = 0; s < symbols; s++) {
  const name = `S${String(s).padStart(4, '0')}.csv`;
  await plainStore.put(`batch/prices/${name}`, plainFile(s + 1));
  await realStore.put(`batch/prices/${name}`, LAYOUTS[s % LAYOUTS.length]!(s + 1));
}
const genSeconds = (performance.now() - t0) / 1000;
console.log(`generated 2 × ${symbols} files × ${days} days in ${genSeconds.toFixed(1)} s under ${dir}`);

async function timedLoad(
  label: string,
  store: LocalObjectStore,
  wh: DuckDbWarehouse,
): Promise<{ rows: number; quarantined: number; seconds: number; results: FileLoadResult[] }> {
  const keys = await listCsvKeys(store, 'batch/prices/');
  console.log(
    `${label}: RSS before loading ${Math.round(process.memoryUsage.rss() / 1024 / 1024)} MB (peak so far ${Math.round(peakRss / 1024 / 1024)} MB)`,
  );
  const started = performance.now();
  let done = 0;
  const results = await loadFiles({ store, warehouse: wh }, keys, {
    runId: `bench-${label}`,
    onFile: () => {
      if (++done % 50 === 0)
        console.log(
          `  ${label}: ${done}/${keys.length} files, ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const failed = results.filter((r) => r.error);
  if (failed.length > 0) throw new Error(`${label}: ${failed.length} files not loaded: ${failed[0]!.error}`);
  console.log(`  ${label}: ${seconds.toFixed(2)} s`);
  return {
    rows: results.reduce((n, r) => n + r.rowsLoaded, 0),
    quarantined: results.reduce((n, r) => n + r.rowsQuarantined, 0),
    seconds,
    results,
  };
}

type Pass = Awaited<ReturnType<typeof timedLoad>>;
let plain: Pass | undefined;
let real: Pass | undefined;
let plainWh: DuckDbWarehouse | undefined;
for (let round = 1; round <= rounds; round++) {
  const pw = await openDuckDbWarehouse(join(dir, `plain-${round}.duckdb`));
  await bootstrapWarehouse(pw);
  const p = await timedLoad(`plain#${round}`, plainStore, pw);
  if (!plain || p.seconds < plain.seconds) plain = p;
  if (plainWh) await plainWh.close();
  plainWh = pw;
  const rw = await openDuckDbWarehouse(join(dir, `real-${round}.duckdb`));
  await bootstrapWarehouse(rw);
  const r = await timedLoad(`real#${round}`, realStore, rw);
  if (!real || r.seconds < real.seconds) real = r;
  await rw.close();
  console.log(
    `round ${round}: plain ${Math.round(p.rows / p.seconds)} rows/s, real formats ${Math.round(r.rows / r.seconds)} rows/s`,
  );
}
clearInterval(sampler);
if (!plain || !real || !plainWh) throw new Error('no rounds ran');

// DuckDB's own reader runs with DuckDB's own settings: every core, its default allocator.
await plainWh.execute(`SET threads = ${availableParallelism()}`);
await plainWh.execute('RESET allocator_flush_threshold');
await plainWh.execute('RESET allocator_bulk_deallocation_flush_threshold');
const t2 = performance.now();
await plainWh.execute(
  `CREATE TABLE READ_CSV_COPY AS SELECT * FROM read_csv('${join(dir, 'plain', 'batch', 'prices')}/*.csv', header = true, filename = true)`,
);
const duckSeconds = (performance.now() - t2) / 1000;
const [check] = await plainWh.query<{ N: number }>('SELECT COUNT(*) AS N FROM READ_CSV_COPY');
await plainWh.close();
if (!values.keep) rmSync(dir, { recursive: true, force: true });

const byFormat = new Map<string, number>();
for (const r of real.results)
  byFormat.set(r.format ?? '?', (byFormat.get(r.format ?? '?') ?? 0) + r.rowsLoaded);
console.log(
  `plain: ${plain.rows} rows in ${plain.seconds.toFixed(2)} s; real formats: ${real.rows} rows (${[...byFormat].map(([f, n]) => `${f} ${n}`).join(', ')}), ${real.quarantined} quarantined, in ${real.seconds.toFixed(2)} s; DuckDB read_csv: ${check?.N} rows in ${duckSeconds.toFixed(2)} s`,
);
const plainRate = plain.rows / plain.seconds;
const realRate = real.rows / real.seconds;
console.log(
  JSON.stringify({
    rows: plain.rows,
    seconds: Number(plain.seconds.toFixed(2)),
    rows_per_s: Math.round(plainRate),
    peak_rss_mb: Math.round(peakRss / 1024 / 1024),
    ratio_vs_duckdb_read_csv: Number((duckSeconds / plain.seconds).toFixed(3)),
    real_format_rows: real.rows,
    real_format_seconds: Number(real.seconds.toFixed(2)),
    real_format_rows_per_s: Math.round(realRate),
    real_vs_plain_ratio: Number((realRate / plainRate).toFixed(3)),
  }),
);
