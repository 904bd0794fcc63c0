import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { firstRun } from '../../cli/first-run.js';
import { topMovers } from '../../cli/summary.js';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import { batchHistoryKind } from '../../lib/sources/history-files.js';
import {
  connectWorker,
  createPipelineWorker,
  openWorkerDeps,
  type WorkerDeps,
} from '../../workers/pipeline-worker.js';

const taskQueue = `first-run-it-${randomUUID()}`;
let config: AppConfig;
let deps: WorkerDeps;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egx-first-run-it-'));
  config = loadConfig({
    ...inject('stackEnv'),
    OBJECT_STORE: 'local',
    LAKE_DIR: join(dir, 'lake'),
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
    DOCS_DIR: join(dir, 'docs'),
    BUS: 'direct',
    EGX_SYMBOLS: 'COMI,ETEL,SWDY',
  });
  deps = await openWorkerDeps(config);
  native = await connectWorker(config);
  worker = await createPipelineWorker(config, native, { taskQueue }, deps);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await deps?.close();
  await native?.close();
});

test('a first start on a Saturday: seeds a synthetic history, runs the daily batch, replays Thursday as a demo, and gold ends on that day', async () => {
  const lines: string[] = [];
  const saturday = new Date('2026-11-21T09:00:00Z'); // 11:00 Cairo, exchange closed
  const first = await firstRun(config, deps, {
    now: saturday,
    demoSpeed: 2000,
    seedDays: 60,
    taskQueue,
    log: (l) => lines.push(l),
  });
  const out = lines.join('\n');
  expect(first.session).toMatchObject({ mode: 'demo', date: '2026-11-19' });
  expect(out).toMatch(
    /\[seed\] the store had no batch files: wrote a SYNTHETIC history .* 3 symbols, 2026-09-20 to 2026-11-18/,
  );
  expect(await batchHistoryKind(deps.store)).toMatchObject({ kind: 'synthetic', to: '2026-11-18' });
  // The daily batch ran for the day of the start, loaded the seeded files and built gold.
  expect(out).toMatch(/files: 5 loaded, 0 unchanged, 0 unreadable; rows \d+ loaded, 0 quarantined/);
  expect(out).toContain('quality PASS recent_data_present: newest price 2026-11-18');
  expect(out).toMatch(/top movers on 2026-11-18/);
  expect(out).toContain('DEMO MODE: the market is closed now, so the session of 2026-11-19 is replayed');

  // The demo polls the whole session, its bars land, and the rebuilt models end on the replayed
  // day. At 2000× the polls fall behind the replay clock and cover wider windows: every one of the
  // 54 five-minute bars a symbol still arrives, once.
  const status = await first.demoDone;
  expect(status).toMatchObject({ tradingDate: '2026-11-19', demoSpeed: 2000, bars: 3 * 54 });
  expect(status!.polls).toBeGreaterThan(1);
  const [streamed] = await deps.warehouse.query<{ N: number; D: number }>(
    "SELECT COUNT(*) AS N, COUNT(DISTINCT SYMBOL || CAST(TS AS VARCHAR)) AS D FROM RAW.STREAM_BARS WHERE TRADE_DATE = '2026-11-19'",
  );
  expect(streamed).toEqual({ N: 162, D: 162 });
  const gold = await deps.warehouse.query<{ SYMBOL: string }>(
    "SELECT symbol AS SYMBOL FROM GOLD.gold_fct_stock_daily_prices WHERE trade_date = '2026-11-19' ORDER BY symbol",
  );
  expect(gold.map((r) => r.SYMBOL)).toEqual(['COMI', 'ETEL', 'SWDY']);
  const movers = await topMovers(deps.warehouse);
  expect(movers.length).toBeGreaterThan(0);
  expect(movers.every((m) => m.tradeDate === '2026-11-19')).toBe(true);

  // A second start finds the history in place: nothing is seeded again.
  lines.length = 0;
  const again = await firstRun(config, deps, {
    now: saturday,
    demoSpeed: 2000,
    taskQueue,
    log: (l) => lines.push(l),
  });
  await again.demoDone;
  expect(lines.join('\n')).not.toContain('[seed]');
  expect(lines.join('\n')).toMatch(/files: 0 loaded, 5 unchanged/);
});
