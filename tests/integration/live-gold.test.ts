import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { controlMarketSession, formatMarketStatus, startMarketSession } from '../../cli/stream.js';
import { cairoClock } from '../../lib/market/calendar.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { buildModel } from '../../lib/transforms/build.js';
import { loadProject, planRun } from '../../lib/transforms/project.js';
import { DAILY_BAR_COLUMNS, TBL_STOCK_PRICE } from '../../lib/warehouse/schema.js';
import { TRANSFORMS_DIR } from '../../workers/pipeline-worker.js';
import type { MarketSessionStatus } from '../../workflows/market-session.js';
import { usePipelineWorker } from '../support/pipeline-worker.js';

const SYMBOLS = ['COMI', 'ETEL'];
const REPLAYED = '2026-11-19'; // a Thursday

const ctx = usePipelineWorker('live-gold-it', {
  OBJECT_STORE: 'local',
  BUS: 'direct',
  EGX_SYMBOLS: SYMBOLS.join(','),
});
let sessionId: string | undefined;

beforeAll(async () => {
  // Two months of daily bars before the replayed day, and daily gold built from them.
  const wh = ctx.deps.warehouse;
  const daily = await new SimulatorSource().fetchBars({
    symbols: SYMBOLS,
    interval: '1d',
    from: new Date('2026-09-15T00:00:00Z'),
    to: new Date(`${REPLAYED}T00:00:00Z`),
  });
  const at = new Date();
  await wh.upsert(
    TBL_STOCK_PRICE,
    DAILY_BAR_COLUMNS,
    daily.map((b) => [
      b.symbol,
      cairoClock(new Date(b.ts)).date,
      'ohlcv',
      b.open,
      b.high,
      b.low,
      b.close,
      b.volume,
      at,
    ]),
  );
  const project = await loadProject(TRANSFORMS_DIR);
  for (const m of planRun(project, ['stg_stock_prices_unified', 'gold_fct_stock_daily_prices']))
    await buildModel(wh, project, m, { runId: 'live-gold-it', businessDate: REPLAYED });
});

afterAll(async () => {
  if (sessionId)
    await ctx.client.workflow
      .getHandle(sessionId)
      .terminate('test over')
      .catch(() => {});
});

test("each poll's bars reach intraday gold within seconds, and the session shows its refreshes in the Web UI", async () => {
  const wh = ctx.deps.warehouse;
  const started = await startMarketSession(ctx.config, {
    date: REPLAYED,
    taskQueue: ctx.taskQueue,
    demoSpeed: 300,
  });
  sessionId = started.workflowId;
  const session = ctx.client.workflow.getHandle(sessionId);

  // A few polls land (one a second at 300×), each followed by a refresh of the live marts.
  await expect
    .poll(async () => (await session.query<MarketSessionStatus>('status')).intraday?.refreshes ?? 0, {
      timeout: 30_000,
      interval: 250,
    })
    .toBeGreaterThanOrEqual(3);
  const quotes = await wh.query<Record<string, unknown>>(
    `SELECT * FROM GOLD.gold_fct_live_quotes WHERE TRADE_DATE = ? ORDER BY SYMBOL`,
    [REPLAYED],
  );
  expect(quotes.map((q) => q.SYMBOL)).toEqual(SYMBOLS);
  for (const q of quotes) {
    // The mart's last price is the close of the symbol's latest streamed bar it names.
    const [bar] = await wh.query<{ CLOSE_PRICE: number; N: number }>(
      `SELECT CLOSE_PRICE, (SELECT COUNT(*) FROM RAW.STREAM_BARS WHERE SYMBOL = ? AND TRADE_DATE = ? AND TS <= ?) AS N
         FROM RAW.STREAM_BARS WHERE SYMBOL = ? AND BAR_INTERVAL = '5m' AND TS = ?`,
      [q.SYMBOL as string, REPLAYED, q.LAST_BAR_TS as Date, q.SYMBOL as string, q.LAST_BAR_TS as Date].map(
        (v) => (v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '') : v),
      ),
    );
    expect(q.LAST_PRICE).toBe(bar!.CLOSE_PRICE);
    expect(q.BARS).toBe(bar!.N);
    expect(q.BARS as number).toBeGreaterThanOrEqual(3);
    expect(q.PREV_CLOSE_DATE).toBe('2026-11-18');
    expect(q.PRICE_CHANGE_PCT).toBeCloseTo(
      ((q.LAST_PRICE as number) / (q.PREV_CLOSE as number) - 1) * 100,
      6,
    );
    expect(q.VWAP as number).toBeGreaterThanOrEqual(q.DAY_LOW as number);
    expect(q.VWAP as number).toBeLessThanOrEqual(q.DAY_HIGH as number);
    expect(q.HIGH_52W as number).toBeGreaterThanOrEqual(q.DAY_HIGH as number);
  }

  // The Web UI: one activity per refresh naming the session and the poll, and the last refresh in
  // the session's current details.
  const events = ((await session.fetchHistory()).events ?? []) as temporal.api.history.v1.IHistoryEvent[];
  const summaries = events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a?.activityType?.name === 'refreshIntradayGold' && e.userMetadata?.summary
      ? [defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary)]
      : [];
  });
  // (At 300× a slow first workflow task can make the first poll cover more than one bar.)
  expect(summaries[0]).toMatch(
    new RegExp(
      `^intraday gold, session ${REPLAYED} \\(demo\\): poll ending 10:\\d\\d Cairo, \\d+ bars of 2 symbols$`,
    ),
  );
  const meta = await session.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(meta.currentDetails).toMatch(
    /intraday gold: refreshed after the poll ending \d\d:\d\d Cairo: 2 symbols, \d+\/\d+ bars committed/,
  );
  // egx market status says it too.
  expect(
    formatMarketStatus(await controlMarketSession(ctx.config, { date: REPLAYED, action: 'status' })),
  ).toMatch(
    /\n {2}intraday gold: refreshed after the window ending \S+: 2 symbols in [\d.]+ s; \d+ refreshes$/,
  );
  const runs = await wh.query<{ MODEL_NAME: string; STATUS: string }>(
    `SELECT MODEL_NAME, STATUS FROM META.MODEL_RUNS WHERE RUN_ID = ? ORDER BY MODEL_NAME`,
    [`${sessionId}-live`],
  );
  expect(runs).toEqual([
    { MODEL_NAME: 'gold_fct_live_bars', STATUS: 'published' },
    { MODEL_NAME: 'gold_fct_live_quotes', STATUS: 'published' },
  ]);
});
