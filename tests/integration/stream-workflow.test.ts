import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createMarketActivities } from '../../activities/market.js';
import {
  controlMarketSession,
  formatMarketStatus,
  formatStreamStatus,
  marketSessionId,
  startMarketSession,
  startStreamConsumer,
  STREAM_CONSUMER_ID,
  streamStatus,
} from '../../cli/stream.js';
import { createKafka, createKafkaPublisher } from '../../lib/bus/kafka.js';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import type { ConsumeProgress } from '../../lib/stream/consumer.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import {
  connectWorker,
  createPipelineWorker,
  createStreamWorker,
  openWorkerDeps,
  type WorkerDeps,
} from '../../workers/pipeline-worker.js';
import { streamConsumerWorkflow, streamProgressQuery } from '../../workflows/stream-consumer.js';

const id = randomUUID().slice(0, 8);
const taskQueue = `stream-wf-${id}`;
const streamQueue = `stream-act-${id}`;
let config: AppConfig;
let deps: WorkerDeps;
let native: NativeConnection;
let client: Client;
let pipeline: Worker;
const workers: Worker[] = [];
const running: Promise<void>[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-stream-wf-'));
  config = loadConfig({
    ...inject('stackEnv'),
    OBJECT_STORE: 's3',
    S3_BUCKET: `egx-stream-wf-${id}`,
    KAFKA_TOPIC: `egx_market_data_wf${id}`,
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
    TEMPORAL_ID_PREFIX: `stream-wf-${id}-`,
  });
  const admin = createKafka(config.kafka, { clientId: 'egx-test' }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: config.kafka.topic, numPartitions: 2 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  deps = await openWorkerDeps(config);
  native = await connectWorker(config);
  client = new Client({ connection: await Connection.connect({ address: config.temporal.address }) });
  pipeline = await createPipelineWorker(config, native, { taskQueue }, deps);
  workers.push(pipeline);
  running.push(pipeline.run());
});

afterAll(async () => {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await Promise.all(running);
  await deps?.close();
  await native?.close();
  await client?.connection.close();
});

/** Publishes one hour of 1-minute simulated bars for the symbols through the poll activity. */
async function poll(symbols: string[], fromUtc: string): Promise<number> {
  const publisher = createKafkaPublisher(
    createKafka(config.kafka, { clientId: 'egx-test' }),
    config.kafka.topic,
  );
  const acts = createMarketActivities({ source: new SimulatorSource(3), publisher });
  const to = new Date(Date.parse(fromUtc) + 3_600_000).toISOString();
  const r = await acts.pollMarket({ symbols, interval: '1m', from: fromUtc, to });
  await publisher.close();
  expect(r.failed).toEqual([]);
  return r.bars;
}

const startStreamWorker = async () => {
  const w = await createStreamWorker(
    config,
    native,
    { taskQueue: streamQueue, shutdownGraceTime: '2 seconds' },
    deps,
  );
  workers.push(w);
  const run = w.run();
  running.push(run);
  return { worker: w, run };
};

async function pendingHeartbeat(workflowId: string): Promise<ConsumeProgress | undefined> {
  const d = await client.workflow.getHandle(workflowId).describe();
  const payload = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<ConsumeProgress>(payload) : undefined;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the consumer workflow sinks polled bars; when its worker stops mid-round, another worker finishes the round with nothing lost or doubled', async () => {
  // Sunday 2025-11-30 10:00–11:00 Cairo: 60 one-minute bars per symbol.
  const first = await poll(['COMI', 'ETEL', 'SWDY'], '2025-11-30T08:00:00.000Z');
  expect(first).toBe(180);

  const a = await startStreamWorker();
  const workflowId = `stream-consumer-${id}`;
  const handle = await client.workflow.start(streamConsumerWorkflow, {
    taskQueue,
    workflowId,
    args: [
      {
        groupId: `egx-sinks-${id}`,
        roundSeconds: 60,
        stopWhenIdleSeconds: 8,
        activityTaskQueue: streamQueue,
      },
    ],
  });

  // Progress and lag of the round in flight are visible on the pending activity (Web UI, describe).
  const seen = await until('a heartbeat with the first bars', async () => {
    const h = await pendingHeartbeat(workflowId);
    return h && h.bars >= first && h.lag === 0 ? h : undefined;
  });
  expect(seen).toMatchObject({ bars: first, deadLettered: 0, lag: 0 });

  // The worker goes away mid-round; more bars arrive while no consumer runs.
  a.worker.shutdown();
  await a.run;
  const second = await poll(['COMI', 'ETEL', 'SWDY'], '2025-11-30T09:00:00.000Z');
  await startStreamWorker();

  const totals = await handle.result();
  expect(totals.lag).toBe(0);
  expect(totals.deadLettered).toBe(0);
  // The retried round reads only what was not committed before the worker stopped.
  expect(totals.bars).toBe(second);
  expect(await handle.query(streamProgressQuery)).toEqual(totals);

  const [row] = await deps.warehouse.query<{ N: number; D: number }>(
    `SELECT COUNT(*) AS N, COUNT(DISTINCT SYMBOL || BAR_INTERVAL || CAST(TS AS VARCHAR)) AS D FROM RAW.STREAM_BARS`,
  );
  expect(row).toEqual({ N: first + second, D: first + second });
  const [day] = await deps.warehouse.query<{ N: number }>(
    "SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'STREAMING_API' AND TRADE_DATE = DATE '2025-11-30'",
  );
  expect(day!.N).toBe(3);
});

test('egx stream start|status and egx market start|status drive the same workflows', async () => {
  const start = await startStreamConsumer(config, { taskQueue, activityTaskQueue: streamQueue });
  try {
    // Starting again finds the running consumer instead of starting a second one.
    expect((await startStreamConsumer(config, { taskQueue, activityTaskQueue: streamQueue })).runId).toBe(
      start.runId,
    );
    // A new consumer group reads the topic from the start; the sinks absorb the re-delivery.
    const status = await until('the round to catch up', async () => {
      const s = await streamStatus(config);
      return s.round && s.round.lag === 0 && s.round.bars >= 360 ? s : undefined;
    });
    expect(formatStreamStatus(status)).toMatch(
      /stream consumer: RUNNING .*\/workflows\/egx-stream-consumer\n.*\n {2}this round \(attempt 1\): messages 360, bars 360, dead-lettered 0, lag 0/,
    );
    const [row] = await deps.warehouse.query<{ N: number }>('SELECT COUNT(*) AS N FROM RAW.STREAM_BARS');
    expect(row!.N).toBe(360);
  } finally {
    await client.workflow.getHandle(STREAM_CONSUMER_ID).terminate('test over');
  }

  // Friday: the session completes at once, saying why.
  await startMarketSession(config, { date: '2025-11-28', taskQueue });
  const market = await until('the closed day to complete', async () => {
    const d = await client.workflow
      .getHandle(config.temporal.idPrefix + marketSessionId('2025-11-28'))
      .describe();
    return d.status.name === 'COMPLETED'
      ? controlMarketSession(config, { date: '2025-11-28', action: 'status' })
      : undefined;
  });
  expect(formatMarketStatus(market)).toBe('market session 2025-11-28: closed (Friday)');
});
