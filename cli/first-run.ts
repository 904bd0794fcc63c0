import type { AppConfig } from '../lib/config.js';
import type { ObjectStore } from '../lib/lake/types.js';
import { cairoClock, egxCalendar } from '../lib/market/calendar.js';
import { sessionToShow } from '../lib/market/session.js';
import { batchHistoryKind, seedSyntheticHistory } from '../lib/sources/history-files.js';
import { SimulatorSource } from '../lib/sources/simulator.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { withClient } from '../temporal-config/connection.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import type { MarketSessionStatus } from '../workflows/market-session.js';
import type { TransformsInput } from '../workflows/transforms.js';
import { startOrAttach } from '../temporal-config/runs.js';
import { workflowIds } from '../temporal-config/workflow-ids.js';
import { explainRunFailure } from './failures.js';
import { formatDailyBatch, runDailyBatch, runUrl } from './run.js';
import { startMarketSession } from './stream.js';
import { formatMovers, topMovers } from './summary.js';

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export interface FirstRunOptions {
  /** Market minutes per real minute when the session shown is a demo replay (default 60). */
  demoSpeed?: number;
  /** Days of synthetic history seeded into an empty store (default 365). */
  seedDays?: number;
  taskQueue?: string;
  now?: Date;
  log: (line: string) => void;
}

export interface FirstRun {
  session: { mode: 'live' | 'demo'; date: string; workflowId: string };
  /** Settles when a demo replay has finished, its bars have landed and the models are rebuilt (live: at once). */
  demoDone: Promise<MarketSessionStatus | undefined>;
}

/**
 * What a newcomer should see on the first start: a synthetic history when the store is empty, one
 * daily batch with transforms right away, the top movers from gold, and a market session: today's
 * live one, or (market closed) a clearly labelled compressed demo replay of the last session,
 * followed by a rebuild of the models so the streamed day shows up in gold.
 */
export async function firstRun(
  config: AppConfig,
  deps: { store: ObjectStore; warehouse: Warehouse },
  opts: FirstRunOptions,
): Promise<FirstRun> {
  const { log } = opts;
  const now = opts.now ?? new Date();
  const show = sessionToShow(now, egxCalendar());
  const symbols = config.market.symbols;

  // History up to the day before the session shown, so that session's prices arrive by streaming.
  const to = addDays(show.date, -1);
  const history = await batchHistoryKind(deps.store);
  if (history.kind === 'empty' || (history.kind === 'synthetic' && history.to < to)) {
    const from = history.kind === 'synthetic' ? history.from : addDays(to, -((opts.seedDays ?? 365) - 1));
    const seeded = await seedSyntheticHistory({
      source: new SimulatorSource(),
      store: deps.store,
      symbols,
      from,
      to,
    });
    log(
      `[seed] ${history.kind === 'empty' ? 'the store had no batch files: wrote' : 'brought up to date'} a SYNTHETIC ` +
        `history (market simulator) of ${seeded.bars} daily bars, ${symbols.length} symbols, ${from} to ${to}, ` +
        `in ${seeded.files} files under ${deps.store.location}/batch/`,
    );
  }

  log('[daily-batch] running one now (load → quality gate → transforms)…');
  // The day may have run already against another warehouse (the Temporal server keeps its runs
  // between starts; a fresh clone starts with an empty DuckDB file): then it runs again here.
  const [loaded] = await deps.warehouse.query<{ N: number }>('SELECT COUNT(*) AS N FROM META.LOADED_FILES');
  try {
    const out = await runDailyBatch(config, {
      date: cairoClock(now).date,
      rerun: Number(loaded?.N ?? 0) === 0,
      taskQueue: opts.taskQueue,
      onStarted: (id, url, outcome) =>
        log(
          `[daily-batch] ${id}${outcome === 'attached' ? ' is already running (scheduled): following it' : outcome === 'completed' ? ' already ran today: its result follows (egx run daily-batch --rerun runs it again)' : ''}  ${url}`,
        ),
    });
    log(formatDailyBatch(out));
    log(formatMovers(await topMovers(deps.warehouse)));
  } catch (e) {
    log(`[daily-batch] FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }

  const demoSpeed = show.mode === 'demo' ? (opts.demoSpeed ?? 60) : undefined;
  const started = await startMarketSession(config, { date: show.date, taskQueue: opts.taskQueue, demoSpeed });
  const session = { ...show, workflowId: started.workflowId };
  if (!demoSpeed) {
    log(
      `[market] live session of ${show.date} (${symbols.length} symbols)${started.outcome === 'attached' ? ', already running (scheduled): following it' : ''}: ${started.url}`,
    );
    return { session, demoDone: Promise.resolve(undefined) };
  }
  const minutes = (270 / demoSpeed).toFixed(1);
  log(
    `[market] DEMO MODE: the market is closed now, so the session of ${show.date} is replayed by the simulator ` +
      `at ${demoSpeed}× (4 h 30 in ${minutes} min), through the same polls, bus and sinks: ${started.url}`,
  );
  return { session, demoDone: followDemo(config, deps.warehouse, session, opts) };
}

/** Waits for the demo replay, then for its bars in the warehouse, then rebuilds the models and shows the day's movers. */
async function followDemo(
  config: AppConfig,
  warehouse: Warehouse,
  session: { date: string; workflowId: string },
  opts: FirstRunOptions,
): Promise<MarketSessionStatus> {
  const status = (await withClient(config, (client) =>
    client.workflow
      .getHandle(session.workflowId)
      .result()
      .catch((e: unknown) =>
        explainRunFailure(`demo session ${session.workflowId}`, runUrl(config, session.workflowId), e),
      ),
  )) as MarketSessionStatus;
  opts.log(`[market] demo replay of ${session.date} finished: ${status.polls} polls, ${status.bars} bars`);

  const deadline = Date.now() + 120_000;
  for (;;) {
    const [row] = await warehouse.query<{ N: number }>(
      `SELECT COUNT(*) AS N FROM RAW.STREAM_BARS WHERE TRADE_DATE = '${session.date}'`,
    );
    if (Number(row?.N) >= status.bars) break;
    if (Date.now() > deadline) {
      opts.log(
        `[market] only ${row?.N} of ${status.bars} streamed bars have landed after 2 minutes; is the sink consumer running?`,
      );
      return status;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await withClient(config, async (client) => {
    const { handle } = await startOrAttach(
      client,
      {
        workflowType: 'transformsWorkflow',
        workflowId: config.temporal.idPrefix + workflowIds.transforms(session.date, 'demo'),
        taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
        args: [{ businessDate: session.date } satisfies TransformsInput],
        summary: `transforms ${session.date} after the demo replay`,
      },
      { rerun: true },
    );
    await handle
      .result()
      .catch((e: unknown) =>
        explainRunFailure(`transforms ${handle.workflowId}`, runUrl(config, handle.workflowId), e),
      );
  });
  opts.log(`[transforms] models rebuilt with the streamed day ${session.date}`);
  opts.log(formatMovers(await topMovers(warehouse)));
  return status;
}
