import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { HealthProblem, operationalProbes } from '../../lib/health/operations.js';
import { healthProbes } from '../../lib/health/probes.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse, TBL_STOCK_PRICE } from '../../lib/warehouse/schema.js';

test('freshness: nothing loaded is fine, a week-old newest price is a problem naming the date', async () => {
  const wh = await openDuckDbWarehouse(':memory:');
  try {
    await bootstrapWarehouse(wh);
    const probes = (now: string) =>
      operationalProbes(loadConfig({}), { warehouse: async () => wh, now: () => new Date(now) });
    expect(await probes('2026-01-20T00:00:00Z').freshness()).toBe('no prices loaded yet');
    await wh.upsert(
      TBL_STOCK_PRICE,
      ['SYMBOL', 'TRADE_DATE', 'DATA_SOURCE', 'CLOSE_PRICE'],
      [['COMI', '2026-01-12', 'yahoo', 80]],
    );
    expect(await probes('2026-01-14T09:00:00Z').freshness()).toBe(
      'newest price is from 2026-01-12 (2 day(s) ago), 1 daily rows',
    );
    await expect(probes('2026-01-25T09:00:00Z').freshness()).rejects.toThrow(HealthProblem);
    await expect(probes('2026-01-25T09:00:00Z').freshness()).rejects.toThrow(
      'newest price is from 2026-01-12, 13 days ago (limit 7)',
    );
  } finally {
    await wh.close();
  }
});

test('disk: reports free space, and too little is a problem', async () => {
  const config = loadConfig({});
  const ok = await operationalProbes(config, { warehouse: () => Promise.reject(new Error('unused')) }).disk();
  expect(ok).toMatch(/^\d+\.\d GiB free of \d+\.\d GiB at \//);
  const strict = operationalProbes(
    config,
    { warehouse: () => Promise.reject(new Error('unused')) },
    {
      maxLag: 1,
      maxStaleDays: 1,
      minFreeBytes: Number.MAX_SAFE_INTEGER,
    },
  );
  await expect(strict.disk()).rejects.toThrow(/^only \d+\.\d GiB free/);
});

test('on the embedded defaults without a broker or S3, their checks say "not used" instead of failing', async () => {
  // Ports where nothing listens: a probe that tried them would fail.
  const config = loadConfig({
    BUS: 'direct',
    OBJECT_STORE: 'local',
    LAKE_DIR: 'data/lake',
    KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1',
  });
  const probes = healthProbes(config);
  expect(await probes.kafka()).toMatch(/^not used: BUS=direct/);
  expect(await probes.s3()).toMatch(/^not used: the object store is the local folder data\/lake/);
  const ops = operationalProbes(config, { warehouse: () => Promise.reject(new Error('unused')) });
  expect(await ops.consumerLag()).toMatch(/^not used/);
  expect(await ops.dlq()).toMatch(/^not used/);
  // With the broker configured, the same check really connects, and fails here.
  await expect(
    healthProbes(loadConfig({ KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1' })).kafka(),
  ).rejects.toThrow();
});

test('live view: not used without INFLUX_URL; a server that does not answer /ping with 204 is a problem', async () => {
  const probes = (env: Record<string, string>) =>
    operationalProbes(loadConfig(env), { warehouse: () => Promise.reject(new Error('unused')) });
  await expect(probes({}).liveView()).resolves.toBe('not used: INFLUX_URL is unset');
  const server = createServer((_, res) => res.writeHead(503).end('starting'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await expect(probes({ INFLUX_URL: `http://127.0.0.1:${port}/` }).liveView()).rejects.toThrow(
      `http://127.0.0.1:${port}/ping answered 503`,
    );
  } finally {
    server.close();
  }
});
