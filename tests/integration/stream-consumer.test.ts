import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { openObjectStore } from '../../lib/adapters.js';
import { createKafka, createKafkaPublisher } from '../../lib/bus/kafka.js';
import type { BarMessage } from '../../lib/bus/message.js';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { getText, type ObjectStore } from '../../lib/lake/types.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { consumeBars, dlqTopicOf } from '../../lib/stream/consumer.js';
import { createBarSink } from '../../lib/stream/sink.js';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';
import type { Warehouse } from '../../lib/warehouse/types.js';

const CHILD = fileURLToPath(new URL('../support/consume-child.ts', import.meta.url));
let config: AppConfig;
let kafka: Kafka;
let store: ObjectStore;
let wh: DuckDbWarehouse;

beforeAll(async () => {
  config = loadConfig({ ...inject('stackEnv'), OBJECT_STORE: 's3', S3_BUCKET: `egx-stream-${Date.now()}` });
  kafka = createKafka(config.kafka, { clientId: 'egx-test' });
  store = await openObjectStore(config);
});
afterAll(() => wh?.close());

async function freshWarehouse(): Promise<DuckDbWarehouse> {
  await wh?.close();
  wh = await openDuckDbWarehouse(':memory:');
  await bootstrapWarehouse(wh);
  return wh;
}

/** 10,000 distinct one-minute bars: 15 symbols over three trading days, cut at 10,000. */
async function tenThousandBars(): Promise<BarMessage[]> {
  const sim = new SimulatorSource(11);
  const symbols = ['COMI', 'ETEL', 'SWDY', 'HRHO', 'TMGH', 'EAST', 'ABUK', 'EFIH', 'FWRY', 'ORAS'];
  const bars = await sim.fetchBars({
    symbols: [...symbols, 'JUFO', 'AMOC', 'ESRS', 'PHDC', 'EKHO'],
    interval: '1m',
    // Sunday 30 Nov to Tuesday 2 Dec 2025.
    from: new Date('2025-11-30T00:00:00Z'),
    to: new Date('2025-12-03T00:00:00Z'),
  });
  expect(bars.length).toBeGreaterThan(10_000);
  return bars.slice(0, 10_000);
}

async function newTopic(partitions = 3): Promise<string> {
  const topic = `egx_market_data_t${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  return topic;
}

async function produce(topic: string, bars: BarMessage[]): Promise<void> {
  const pub = createKafkaPublisher(kafka, topic);
  for (let i = 0; i < bars.length; i += 2000) await pub.publish(bars.slice(i, i + 2000));
  await pub.close();
}

async function produceRaw(topic: string, messages: { key: string; value: string | null }[]): Promise<void> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  await p.send({ topic, acks: -1, messages });
  await p.disconnect();
}

/** Every archived line under streaming/ for a topic: the bars the object store holds. */
async function archivedLines(topic: string): Promise<(BarMessage & { offset: string })[]> {
  const keys: string[] = [];
  for await (const o of store.list('streaming/')) if (o.key.includes(`/${topic}-`)) keys.push(o.key);
  const texts = await Promise.all(keys.map((k) => getText(store, k)));
  return texts.flatMap((t) =>
    t
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BarMessage & { offset: string }),
  );
}

const barKey = (b: Pick<BarMessage, 'symbol' | 'interval' | 'ts'>) => `${b.symbol}|${b.interval}|${b.ts}`;

async function warehouseKeys(topic: string): Promise<string[]> {
  const rows = await wh.query<{ SYMBOL: string; BAR_INTERVAL: string; TS: string }>(
    `SELECT SYMBOL, BAR_INTERVAL, strftime(TS, '%Y-%m-%dT%H:%M:%S.000Z') AS TS FROM RAW.STREAM_BARS WHERE SOURCE_KEY LIKE ?`,
    [`${topic}-%`],
  );
  return rows.map((r) => `${r.SYMBOL}|${r.BAR_INTERVAL}|${r.TS}`);
}

async function readTopic(topic: string, expected: number) {
  const c = kafka.consumer({ groupId: `read-${randomUUID()}` });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const got: { value: string | null; headers: Record<string, string> }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${got.length} of ${expected} read from ${topic}`)),
      20_000,
    );
    void c.run({
      eachMessage: async ({ message }) => {
        got.push({
          value: message.value?.toString() ?? null,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
        if (got.length === expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  // Nothing beyond the expected messages.
  await new Promise((r) => setTimeout(r, 1000));
  await c.disconnect();
  return got;
}

test('10,000 bars plus poison and legacy messages: every bar once in both sinks, exactly the poison in the DLQ', async () => {
  await freshWarehouse();
  const topic = await newTopic();
  const bars = await tenThousandBars();
  await produce(topic, bars);
  const poison = [
    { key: 'COMI', value: 'not json {' },
    { key: 'COMI', value: JSON.stringify({ ...bars[0], high: 1, low: 2 }) },
    { key: 'ETEL', value: JSON.stringify({ ...bars[1], interval: '7m' }) },
    { key: 'ETEL', value: null },
  ];
  const legacy = [
    {
      key: 'EGX:SWDY',
      value: JSON.stringify({
        symbol: 'EGX:SWDY',
        datetime: '2025-11-20',
        interval: 'Daily',
        open: '70.1',
        high: '72',
        low: '69.5',
        close: '71.2',
        volume: '1200000',
        ingestion_timestamp: '2025-11-20 15:00:00',
      }),
    },
  ];
  await produceRaw(topic, [...poison, ...legacy]);

  const progress = await consumeBars({
    kafka,
    topic,
    groupId: `egx-sinks-${topic}`,
    sink: createBarSink({ store, warehouse: wh }),
    stopWhenIdleMs: 1500,
  });
  expect(progress).toMatchObject({ messages: 10_005, bars: 10_001, deadLettered: 4, legacy: 1, lag: 0 });

  const expected = [...bars.map(barKey), 'SWDY|1d|2025-11-19T22:00:00.000Z'].sort();
  const archived = await archivedLines(topic);
  expect(archived.map(barKey).sort()).toEqual(expected);
  expect((await warehouseKeys(topic)).sort()).toEqual(expected);
  const [legacyDay] = await wh.query(
    "SELECT CLOSE_PRICE, VOLUME FROM OPERATIONAL.TBL_STOCK_PRICE WHERE SYMBOL = 'SWDY' AND TRADE_DATE = DATE '2025-11-20' AND DATA_SOURCE = 'STREAMING_API'",
  );
  expect(legacyDay).toEqual({ CLOSE_PRICE: 71.2, VOLUME: 1_200_000 });

  const dead = await readTopic(dlqTopicOf(topic), poison.length);
  expect(dead.map((d) => d.value).sort()).toEqual(poison.map((p) => p.value).sort());
  const reasons = dead.map((d) => d.headers['x-dlq-reason']).join('\n');
  expect(reasons).toMatch(/not JSON/);
  expect(reasons).toMatch(/high 1 < low 2/);
  expect(reasons).toMatch(/interval/);
  expect(reasons).toMatch(/tombstone/);
  expect(
    dead.every((d) => d.headers['x-source-topic'] === topic && /^\d+$/.test(d.headers['x-source-offset']!)),
  ).toBe(true);
});

test('a consumer that dies between the object-store write and the warehouse write, then restarts, loses and duplicates nothing', async () => {
  const real = await freshWarehouse();
  const topic = await newTopic();
  const bars = await tenThousandBars();
  await produce(topic, bars);
  const groupId = `egx-sinks-${topic}`;

  // The third batch's warehouse write never happens: its files are archived but its offset is not committed.
  let upserts = 0;
  const dying: Warehouse = {
    ...real,
    dialect: real.dialect,
    execute: (s, p) => real.execute(s, p),
    query: (s, p) => real.query(s, p),
    bulkInsert: (t, c, r) => real.bulkInsert(t, c, r),
    bootstrap: (t) => real.bootstrap(t),
    close: () => Promise.resolve(),
    upsert: (t, c, r) => {
      if (t.name === 'STREAM_BARS' && ++upserts > 2) return Promise.reject(new Error('worker killed'));
      return real.upsert(t, c, r);
    },
  };
  await expect(
    consumeBars({
      kafka,
      topic,
      groupId,
      sink: createBarSink({ store, warehouse: dying }),
      maxBytesPerPartition: 64 * 1024,
    }),
  ).rejects.toThrow(/worker killed/);
  const partial = await warehouseKeys(topic);
  expect(partial.length).toBeGreaterThan(0);
  expect(partial.length).toBeLessThan(10_000);

  const resumed = await consumeBars({
    kafka,
    topic,
    groupId,
    sink: createBarSink({ store, warehouse: real }),
    stopWhenIdleMs: 1500,
  });
  expect(resumed.messages).toBe(10_000 - partial.length);
  const expected = bars.map(barKey).sort();
  expect((await archivedLines(topic)).map(barKey).sort()).toEqual(expected);
  expect((await warehouseKeys(topic)).sort()).toEqual(expected);
});

test('a consumer process killed with SIGKILL mid-batch and restarted loses and duplicates nothing', async () => {
  const topic = await newTopic();
  const bars = await tenThousandBars();
  await produce(topic, bars);
  const dir = mkdtempSync(join(tmpdir(), 'egx-kill-'));
  const env = {
    ...process.env,
    BROKERS: config.kafka.brokers[0]!,
    TOPIC: topic,
    GROUP: `egx-sinks-${topic}`,
    LAKE_DIR: join(dir, 'lake'),
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
    HANG_AFTER_BATCHES: '4',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the child never reached the middle of a batch')),
      60_000,
    );
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('MID-BATCH')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const local = new LocalObjectStore(env.LAKE_DIR);
  const restarted = await openDuckDbWarehouse(env.DUCKDB_PATH);
  try {
    const before = await restarted.query<{ N: number }>('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS');
    expect(before[0]!.N).toBeGreaterThan(0);
    expect(before[0]!.N).toBeLessThan(10_000);
    await consumeBars({
      kafka,
      topic,
      groupId: env.GROUP,
      sink: createBarSink({ store: local, warehouse: restarted }),
      stopWhenIdleMs: 1500,
    });
    const rows = await restarted.query<{ K: string }>(
      "SELECT SYMBOL || '|' || BAR_INTERVAL || '|' || strftime(TS, '%Y-%m-%dT%H:%M:%S.000Z') AS K FROM RAW.STREAM_BARS",
    );
    const expected = bars.map(barKey).sort();
    expect(rows.map((r) => r.K).sort()).toEqual(expected);
    const lines: BarMessage[] = [];
    for await (const o of local.list('streaming/')) {
      lines.push(
        ...(await getText(local, o.key))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as BarMessage),
      );
    }
    expect(lines.map(barKey).sort()).toEqual(expected);
  } finally {
    await restarted.close();
  }
});
