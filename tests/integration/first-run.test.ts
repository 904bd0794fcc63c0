import { expect, test } from 'vitest';
import { firstRun } from '../../cli/first-run.js';
import { topMovers } from '../../cli/summary.js';
import { batchHistoryKind } from '../../lib/sources/history-files.js';
import { usePipelineWorker } from '../support/pipeline-worker.js';

const ctx = usePipelineWorker('first-run-it', {
  OBJECT_STORE: 'local',
  BUS: 'direct',
  EGX_SYMBOLS: 'COMI,ETEL,SWDY',
});

test('a first start on a Saturday: seeds a synthetic history, runs the daily batch, replays Thursday as a demo, and gold ends on that day', async () => {
  const lines: string[] = [];
  const saturday = new Date('2026-11-21T09:00:00Z'); // 11:00 Cairo, exchange closed
  const first = await firstRun(ctx.config, ctx.deps, {
    now: saturday,
    demoSpeed: 2000,
    seedDays: 60,
    taskQueue: ctx.taskQueue,
    log: (l) => lines.push(l),
  });
  const out = lines.join('\n');
  expect(first.session).toMatchObject({ mode: 'demo', date: '2026-11-19' });
  expect(out).toMatch(
    /\[seed\] the store had no batch files: wrote a SYNTHETIC history .* 3 symbols, 2026-09-20 to 2026-11-18/,
  );
  expect(await batchHistoryKind(ctx.deps.store)).toMatchObject({ kind: 'synthetic', to: '2026-11-18' });
  // The daily batch ran for the day of the start, loaded the seeded files and built gold.
  expect(out).toMatch(/files: 5 loaded, 0 unchanged, 0 unreadable; rows \d+ loaded, 0 quarantined/);
  expect(out).toMatch(
    /quality PASS recent_data_present: newest price on or before 2026-11-\d\d is 2026-11-18, within 5 trading days/,
  );
  expect(out).toMatch(/top movers on 2026-11-18/);
  expect(out).toContain('DEMO MODE: the market is closed now, so the session of 2026-11-19 is replayed');

  // The demo polls the whole session, its bars land, and the rebuilt models end on the replayed
  // day. At 2000× the polls fall behind the replay clock and cover wider windows: every one of the
  // 54 five-minute bars a symbol still arrives, once.
  const status = await first.demoDone;
  expect(status).toMatchObject({ tradingDate: '2026-11-19', demoSpeed: 2000, bars: 3 * 54 });
  expect(status!.polls).toBeGreaterThan(1);
  const [streamed] = await ctx.deps.warehouse.query<{ N: number; D: number }>(
    "SELECT COUNT(*) AS N, COUNT(DISTINCT SYMBOL || CAST(TS AS VARCHAR)) AS D FROM RAW.STREAM_BARS WHERE TRADE_DATE = '2026-11-19'",
  );
  expect(streamed).toEqual({ N: 162, D: 162 });
  const gold = await ctx.deps.warehouse.query<{ SYMBOL: string }>(
    "SELECT symbol AS SYMBOL FROM GOLD.gold_fct_stock_daily_prices WHERE trade_date = '2026-11-19' ORDER BY symbol",
  );
  expect(gold.map((r) => r.SYMBOL)).toEqual(['COMI', 'ETEL', 'SWDY']);
  const movers = await topMovers(ctx.deps.warehouse);
  expect(movers.length).toBeGreaterThan(0);
  expect(movers.every((m) => m.tradeDate === '2026-11-19')).toBe(true);

  // A second start finds the history in place: nothing is seeded again, and the day's batch, which
  // completed, is not run twice: its result is shown.
  lines.length = 0;
  const again = await firstRun(ctx.config, ctx.deps, {
    now: saturday,
    demoSpeed: 2000,
    taskQueue: ctx.taskQueue,
    log: (l) => lines.push(l),
  });
  await again.demoDone;
  expect(lines.join('\n')).not.toContain('[seed]');
  const batchId = `${ctx.config.temporal.idPrefix}daily-batch-2026-11-21`;
  expect(lines.join('\n')).toContain(`${batchId} already ran today`);
  expect(lines.join('\n')).toMatch(/files: 5 loaded, 0 unchanged/);
  const runs = ctx.client.workflow.list({ query: `WorkflowId = '${batchId}'` });
  const executions: string[] = [];
  for await (const r of runs) executions.push(r.runId);
  expect(executions).toHaveLength(1);
});
