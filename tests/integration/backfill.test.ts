import { PassThrough } from 'node:stream';
import { expect, test } from 'vitest';
import {
  backfillId,
  followBackfill,
  formatBackfill,
  parseBackfillRequest,
  startBackfill,
} from '../../cli/backfill.js';
import { cairoClock } from '../../lib/market/calendar.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { usePipelineWorker } from '../support/pipeline-worker.js';

const ctx = usePipelineWorker('backfill-it');

test('egx backfill loads two years for two symbols as batch history files and rebuilds the models; the same command again skips every chunk', async () => {
  const request = {
    ...parseBackfillRequest(ctx.config, {
      from: '2023-01-01',
      to: '2024-12-31',
      symbols: 'comi,etel',
      force: true,
    }),
    chunkDays: 180,
    taskQueue: ctx.taskQueue,
  };
  const expected = await new SimulatorSource().fetchBars({
    symbols: ['COMI', 'ETEL'],
    interval: '1d',
    from: new Date('2022-12-31T22:00:00Z'),
    to: new Date('2024-12-31T22:00:00Z'),
  });
  expect(expected.length).toBeGreaterThan(900);

  const { workflowId } = await startBackfill(ctx.config, request);
  expect(workflowId).toBe(backfillId(request));
  const screen = new PassThrough();
  let drawn = '';
  screen.on('data', (c: Buffer) => (drawn += c.toString()));
  const done = await followBackfill(ctx.config, workflowId, screen as unknown as NodeJS.WriteStream);
  expect(done).toMatchObject({
    chunks: 5,
    done: 5,
    skipped: 0,
    failed: [],
    bars: expected.length,
    transforms: 'done',
  });
  expect(drawn).toMatch(/backfill \|.*\| 5\/5 chunks · \d+ bars/);
  expect(formatBackfill(done, workflowId)).toContain(
    `5 chunk(s) loaded, 0 already done, 0 failed of 5; ${expected.length} bars`,
  );

  // Landed as batch history files, one folder per chunk, and loaded by the batch loader.
  const files: string[] = [];
  for await (const o of ctx.deps.store.list('batch/prices/backfill/')) files.push(o.key);
  expect(files).toHaveLength(10);
  expect(files).toContain('batch/prices/backfill/2023-06-30/COMI.csv');
  const loaded = await ctx.deps.warehouse.query<{ SYMBOL: string; TRADE_DATE: string; CLOSE_PRICE: number }>(
    "SELECT SYMBOL, CAST(TRADE_DATE AS VARCHAR) AS TRADE_DATE, CLOSE_PRICE FROM OPERATIONAL.TBL_STOCK_PRICE WHERE DATA_SOURCE = 'ohlcv' ORDER BY SYMBOL, TRADE_DATE",
  );
  expect(loaded).toHaveLength(expected.length);
  const last = expected.filter((b) => b.symbol === 'ETEL').at(-1)!;
  expect(loaded.at(-1)).toEqual({
    SYMBOL: 'ETEL',
    TRADE_DATE: cairoClock(new Date(last.ts)).date,
    CLOSE_PRICE: last.close,
  });
  const [gold] = await ctx.deps.warehouse.query<{ N: number }>(
    "SELECT COUNT(*) AS N FROM GOLD.gold_fct_stock_daily_prices WHERE symbol IN ('COMI', 'ETEL')",
  );
  expect(gold!.N).toBe(expected.length);

  await startBackfill(ctx.config, request);
  const again = await followBackfill(
    ctx.config,
    workflowId,
    new PassThrough() as unknown as NodeJS.WriteStream,
  );
  expect(again).toMatchObject({ chunks: 5, done: 0, skipped: 5 });
});
