/**
 * Streaming benchmark on the bench profile's Kafka broker (started if needed, stopped after):
 *  (a) throughput: N bar messages on a 3-partition topic consumed into both sinks (local object
 *      store + DuckDB file) by the pipeline's consumer, against Kafka's own ConsumerPerformance on
 *      the same topic in the same run; both counted from the first fetch to the last message
 *      (group join excluded); then every bar is checked once in both sinks;
 *  (b) latency: bars published at a steady rate while the consumer runs; publish → queryable in
 *      the warehouse (the sink's upsert returned) per bar.
 * Last line: one JSON object.  npm run bench:stream [-- --messages 300000 --rate 1000 --seconds 20 --symbols 200]
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify, parseArgs } from 'node:util';
import { CompressionTypes, Partitioners, type Kafka } from 'kafkajs';
import { createKafka } from '../lib/bus/kafka.js';
import { encodeBar, type BarMessage } from '../lib/bus/message.js';
import { LocalObjectStore } from '../lib/lake/local.js';
import { SIMULATED_TICKERS } from '../lib/sources/simulator.js';
import { consumeBars } from '../lib/stream/consumer.js';
import { createBarSink, type BarSink } from '../lib/stream/sink.js';
import { openDuckDbWarehouse } from '../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../lib/warehouse/schema.js';
import { kafkaClasspath } from '../scripts/devstack/kafka.js';
import { PROFILES } from '../scripts/devstack/profile.js';
import { down, install, status, up } from '../scripts/devstack/stack.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    symbols: { type: 'string', default: '200' },
    keep: { type: 'boolean' },
  },
});
const N = Number(values.messages);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const profile = PROFILES.bench;
const FETCH_BYTES = 4 * 1024 * 1024;
const SYMBOLS = Number(values.symbols);
const log = (line: string) => console.log(line);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const wasRunning = status(profile, ['kafka'])[0]?.running;
await install(profile, (l) => log(`[stack] ${l}`), ['kafka']);
await up(profile, (l) => log(`[stack] ${l}`), ['kafka']);
const brokers = [`127.0.0.1:${profile.ports.kafka}`];
const kafka = createKafka({ brokers }, { clientId: 'egx-bench' });
const dir = mkdtempSync(join(tmpdir(), 'egx-stream-bench-'));

async function createTopic(k: Kafka, topic: string) {
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
}

/**
 * N distinct one-minute bars: the simulator's tickers, one session (10:00–14:30 Cairo, 08:00 UTC
 * in winter) per weekday from 2024-01-01, as a random walk on the tick grid (the simulator itself
 * is exact but too slow to make hundreds of thousands of bars quickly).
 */
function generateBars(n: number, seed = 42): BarMessage[] {
  // The simulator's real tickers plus made-up ones up to SYMBOLS, about the EGX's size, so keys spread over partitions as on the real topic.
  const symbols = Object.entries(SIMULATED_TICKERS);
  for (let i = symbols.length; i < SYMBOLS; i++)
    symbols.push([`SYM${String(i).padStart(3, '0')}`, 5 + (i % 50)]);
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const price = new Map(symbols);
  const out: BarMessage[] = [];
  for (let day = Date.UTC(2024, 0, 1); out.length < n; day += 86_400_000) {
    const weekday = new Date(day).getUTCDay();
    if (weekday === 5 || weekday === 6) continue;
    for (let m = 0; m < 270 && out.length < n; m++) {
      const ts = new Date(day + 8 * 3_600_000 + m * 60_000).toISOString();
      for (const [symbol] of symbols) {
        if (out.length >= n) break;
        const open = price.get(symbol)!;
        const tick = open < 1 ? 0.001 : 0.01;
        const close = Math.max(tick, Math.round((open * (1 + (rnd() - 0.5) * 0.004)) / tick) * tick);
        price.set(symbol, close);
        out.push({
          schema: 1,
          symbol,
          exchange: 'EGX',
          interval: '1m',
          ts,
          open: Number(open.toFixed(3)),
          high: Number((Math.max(open, close) + tick).toFixed(3)),
          low: Number(Math.max(tick, Math.min(open, close) - tick).toFixed(3)),
          close: Number(close.toFixed(3)),
          volume: Math.floor(rnd() * 50_000),
          source: 'bench',
          ingested_at: ts,
        });
      }
    }
  }
  return out;
}

async function produceAll(topic: string, bars: BarMessage[]) {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  for (let i = 0; i < bars.length; i += 2_000) {
    await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: bars.slice(i, i + 2_000).map(encodeBar),
    });
  }
  await producer.disconnect();
}

/** Kafka's own consumer on the topic: fetch.nMsg.sec (first fetch to the last message). */
async function consumerPerformance(topic: string, n: number): Promise<number> {
  const { stdout } = await promisify(execFile)(
    'java',
    [
      '-Xmx512m',
      '-cp',
      kafkaClasspath(profile),
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      brokers[0]!,
      '--topic',
      topic,
      '--messages',
      String(n),
      '--group',
      `perf-${randomUUID()}`,
      '--timeout',
      '60000',
      // The same per-partition fetch size as the pipeline's consumer.
      '--fetch-size',
      String(FETCH_BYTES),
    ],
    { maxBuffer: 1 << 20 },
  );
  const lines = stdout
    .trim()
    .split('\n')
    .filter((l) => l.includes(','));
  const header = lines[0]!.split(',').map((h) => h.trim());
  const row = lines
    .at(-1)!
    .split(',')
    .map((v) => v.trim());
  const rate = Number(row[header.indexOf('fetch.nMsg.sec')]);
  if (!Number.isFinite(rate)) throw new Error(`unexpected ConsumerPerformance output:\n${stdout}`);
  return rate;
}

/** Wraps a sink to time each batch's first arrival and last write, and to record when each bar became queryable. */
function timedSink(inner: BarSink, onWritten?: (bars: BarMessage[], at: number) => void) {
  const t = { first: 0, last: 0 };
  const sink: BarSink = {
    async write(batch) {
      t.first ||= performance.now();
      const r = await inner.write(batch);
      t.last = performance.now();
      onWritten?.(
        batch.entries.map((e) => e.bar),
        Date.now(),
      );
      return r;
    },
  };
  return { sink, t };
}

async function archiveCheck(root: string, origins: string): Promise<{ lines: number; distinct: number }> {
  const offsets = new Set<string>();
  let lines = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.startsWith(origins)) {
        for (const l of (await readFile(p, 'utf8')).split('\n')) {
          if (!l) continue;
          const m = JSON.parse(l) as { offset: string; symbol: string; ts: string };
          lines++;
          offsets.add(`${e.name.slice(0, e.name.lastIndexOf('-'))}|${m.offset}`);
        }
      }
    }
  };
  await walk(join(root, 'streaming'));
  return { lines, distinct: offsets.size };
}

try {
  // (a) Throughput.
  const topic = `bench_stream_${randomUUID().slice(0, 8)}`;
  await createTopic(kafka, topic);
  let t0 = performance.now();
  const bars = generateBars(N);
  log(`generated ${bars.length} bars in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  await produceAll(topic, bars);
  log(`produced ${N} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Twice: the first run also warms the broker's fetch path; the better run is the yardstick.
  const runs = [await consumerPerformance(topic, N), await consumerPerformance(topic, N)];
  const raw = Math.max(...runs);
  log(`ConsumerPerformance: ${runs.map((r) => Math.round(r)).join(' and ')} msg/s`);

  const store = new LocalObjectStore(join(dir, 'lake'));
  const wh = await openDuckDbWarehouse(join(dir, 'bench.duckdb'));
  await bootstrapWarehouse(wh);
  const { sink, t } = timedSink(createBarSink({ store, warehouse: wh }));
  let lastLog = 0;
  const progress = await consumeBars({
    kafka,
    topic,
    groupId: `bench-${topic}`,
    sink,
    maxBytesPerPartition: FETCH_BYTES,
    stopWhenIdleMs: 1000,
    lagEveryMs: 500,
    onProgress: (p) => {
      if (performance.now() - lastLog > 2000) {
        lastLog = performance.now();
        log(`  consumed ${p.messages} / ${N} (lag ${p.lag ?? '?'})`);
      }
    },
  });
  const ours = progress.messages / ((t.last - t.first) / 1000);
  log(`pipeline consumer into both sinks: ${Math.round(ours)} msg/s (${progress.batches} batches)`);

  const [row] = await wh.query<{ N: number; D: number }>(
    "SELECT COUNT(*) AS N, COUNT(DISTINCT SYMBOL || '|' || BAR_INTERVAL || '|' || CAST(TS AS VARCHAR)) AS D FROM RAW.STREAM_BARS",
  );
  const archive = await archiveCheck(store.root, topic);
  const distinctWarehouse = Number(row!.D);
  const lost = Math.max(N - distinctWarehouse, N - archive.distinct);
  const duplicates = Number(row!.N) - distinctWarehouse + (archive.lines - archive.distinct);
  log(
    `warehouse ${row!.N} rows (${distinctWarehouse} distinct); archive ${archive.lines} lines (${archive.distinct} distinct offsets)`,
  );

  // (b) Latency at a steady rate.
  const ltopic = `bench_latency_${randomUUID().slice(0, 8)}`;
  await createTopic(kafka, ltopic);
  const latencies: number[] = [];
  const { sink: lsink } = timedSink(createBarSink({ store, warehouse: wh }), (written, at) => {
    for (const b of written) latencies.push(at - Date.parse(b.ingested_at));
  });
  const stopLatency = new AbortController();
  const consuming = consumeBars({
    kafka,
    topic: ltopic,
    groupId: `bench-${ltopic}`,
    sink: lsink,
    signal: stopLatency.signal,
  });
  await new Promise((r) => setTimeout(r, 3000)); // let the consumer join before the clock starts
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const pool = generateBars(RATE * SECONDS, 7);
  const tick = 100;
  const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
  const start = Date.now();
  for (let i = 0, k = 0; i < pool.length; i += perTick, k++) {
    const wait = start + k * tick - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const now = new Date().toISOString();
    await producer.send({
      topic: ltopic,
      acks: -1,
      messages: pool.slice(i, i + perTick).map((b) => encodeBar({ ...b, ingested_at: now })),
    });
  }
  await producer.disconnect();
  const sent = pool.length;
  const deadline = Date.now() + 30_000;
  while (latencies.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  stopLatency.abort();
  await consuming;
  latencies.sort((a, b) => a - b);
  log(
    `latency over ${latencies.length} of ${sent} bars at ${RATE} msg/s: p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms`,
  );
  await wh.close();

  console.log(
    JSON.stringify({
      messages: N,
      msgs_per_s: Math.round(ours),
      raw_kafka_msgs_per_s: Math.round(raw),
      ratio: Number((ours / raw).toFixed(3)),
      p50_ms: pct(latencies, 50),
      p99_ms: pct(latencies, 99),
      latency_rate_msgs_per_s: RATE,
      lost: lost + (sent - latencies.length),
      duplicates,
    }),
  );
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  if (!wasRunning) await down(profile, (l) => log(`[stack] ${l}`), ['kafka']);
}
