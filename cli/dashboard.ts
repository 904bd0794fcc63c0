import {
  Client,
  WorkflowNotFoundError,
  type Connection,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { openWarehouse } from '../lib/adapters.js';
import type { AppConfig } from '../lib/config.js';
import { startDashboardServer, type DashboardServer } from '../lib/dashboard/server.js';
import type {
  ConsumerStatus,
  DailyBatchStatus,
  PipelineStatus,
  PipelineStatusProvider,
  RunLink,
  SessionStatus,
} from '../lib/dashboard/status.js';
import { withTimeout } from '../lib/util/timeout.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { connectClient } from '../temporal-config/connection.js';
import type { MarketSessionStatus } from '../workflows/market-session.js';
import { STREAM_CONSUMER_ID, streamStatusOf } from './stream.js';

const ASK_MS = 3000;

/** The run's page in the Temporal Web UI. */
export function runUrl(config: AppConfig, workflowId: string, runId?: string): string {
  const base = `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

type RunInfo = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime'>;

const link = (config: AppConfig, w: RunInfo): RunLink => ({
  workflowId: w.workflowId,
  runId: w.runId,
  status: w.status.name,
  url: runUrl(config, w.workflowId, w.runId),
  startedAt: w.startTime.toISOString(),
  closedAt: w.closeTime?.toISOString(),
});

/** The run a person means by "the latest": one still running, else the one started last (continued-as-new links skipped). */
async function latestRun(client: Client, query: string): Promise<WorkflowExecutionInfo | undefined> {
  const runs: WorkflowExecutionInfo[] = [];
  for await (const w of client.workflow.list({ query, pageSize: 20 })) {
    if (w.status.name !== 'CONTINUED_AS_NEW') runs.push(w);
    if (runs.length >= 20) break;
  }
  return (
    runs.find((w) => w.status.name === 'RUNNING') ??
    runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime())[0]
  );
}

async function sessionStatus(config: AppConfig, client: Client): Promise<SessionStatus | undefined> {
  const prefix = config.temporal.idPrefix;
  const w = await latestRun(
    client,
    `WorkflowType = 'marketSessionWorkflow' AND WorkflowId STARTS_WITH '${prefix}market-session-'`,
  );
  if (!w) return undefined;
  const out: SessionStatus = {
    ...link(config, w),
    tradingDate: /(\d{4}-\d{2}-\d{2})$/.exec(w.workflowId)?.[1],
    paused: false,
    polls: 0,
    bars: 0,
    symbols: [],
    failing: [],
  };
  const handle = client.workflow.getHandle(w.workflowId);
  try {
    const s =
      w.status.name === 'RUNNING'
        ? await withTimeout(
            handle.query<MarketSessionStatus>('status'),
            ASK_MS,
            'the session answered its status query',
          )
        : w.status.name === 'COMPLETED'
          ? ((await withTimeout(
              handle.result(),
              ASK_MS,
              'the session gave its result',
            )) as MarketSessionStatus)
          : undefined;
    if (s)
      Object.assign(out, {
        tradingDate: s.tradingDate ?? out.tradingDate,
        demoSpeed: s.demoSpeed,
        closed: s.closed,
        paused: s.paused,
        polls: s.polls,
        bars: s.bars,
        lastPollEnd: s.lastPollEnd,
        symbols: s.symbols,
        failing: s.lastFailures,
        intraday: s.intraday && {
          refreshes: s.intraday.refreshes,
          failed: s.intraday.failed,
          lastPollEnd: s.intraday.last?.pollEnd,
          quotes: s.intraday.last?.quotes,
          seconds: s.intraday.last?.seconds,
          lastError: s.intraday.lastError,
        },
      });
  } catch (e) {
    out.note = `its status could not be read (${e instanceof Error ? e.message : String(e)}): is a worker running?`;
  }
  return out;
}

async function consumerStatus(config: AppConfig, client: Client): Promise<ConsumerStatus | undefined> {
  try {
    const s = await streamStatusOf(client, config);
    const d = await client.workflow.getHandle(STREAM_CONSUMER_ID).describe();
    const t = s.totals;
    return {
      ...link(config, d),
      lag: s.round?.lag ?? t?.lag,
      deadLettered: (t?.deadLettered ?? 0) + (s.round?.deadLettered ?? 0),
      messages: (t?.messages ?? 0) + (s.round?.messages ?? 0),
      bars: (t?.bars ?? 0) + (s.round?.bars ?? 0),
      rounds: t?.rounds ?? 0,
    };
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

async function dailyBatchStatus(config: AppConfig, client: Client): Promise<DailyBatchStatus | undefined> {
  const w = await latestRun(
    client,
    `WorkflowType = 'dailyBatchWorkflow' AND WorkflowId STARTS_WITH '${config.temporal.idPrefix}daily-batch-'`,
  );
  return w && { ...link(config, w), businessDate: /(\d{4}-\d{2}-\d{2})$/.exec(w.workflowId)?.[1] };
}

/**
 * The dashboard's pipeline status from Temporal: the newest market session (its `status` query, or
 * its result once done), the sink consumer (its `progress` query and the running round's heartbeat:
 * lag and dead letters), and the latest daily batch (a visibility list query). One client
 * connection, opened on first use and again after a failure.
 */
export function temporalStatusProvider(config: AppConfig): {
  provider: PipelineStatusProvider;
  close(): Promise<void>;
} {
  let connection: Promise<Connection> | undefined;
  const connect = () =>
    (connection ??= connectClient(config, ASK_MS).catch((e: unknown) => {
      connection = undefined;
      throw e;
    }));
  const provider: PipelineStatusProvider = async () => {
    const base: PipelineStatus = {
      checkedAt: new Date().toISOString(),
      temporalUiUrl: `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows`,
      direct: config.bus === 'direct' || undefined,
    };
    try {
      const client = new Client({ connection: await connect(), namespace: config.temporal.namespace });
      const [session, consumer, dailyBatch] = await withTimeout(
        Promise.all([
          sessionStatus(config, client),
          config.bus === 'direct' ? undefined : consumerStatus(config, client),
          dailyBatchStatus(config, client),
        ]),
        ASK_MS * 3,
        'Temporal answered the status lookups',
      );
      return { ...base, session, consumer, dailyBatch };
    } catch (e) {
      const stale = connection;
      connection = undefined;
      void stale?.then((c) => c.close()).catch(() => {});
      return {
        ...base,
        unavailable: `Temporal at ${config.temporal.address} did not answer (${e instanceof Error ? e.message : String(e)}); the table and charts still come from the warehouse`,
      };
    }
  };
  return {
    provider,
    async close() {
      const c = connection;
      connection = undefined;
      await c?.then((x) => x.close()).catch(() => {});
    },
  };
}

/**
 * Serves the dashboard on `bind` (default DASHBOARD_BIND) from the given warehouse, with the
 * pipeline status from Temporal. `bash scripts/run.sh` calls it with the worker's own warehouse:
 * DuckDB lets one process hold the file, and the worker holds it.
 */
export async function startDashboard(
  config: AppConfig,
  opts: {
    warehouse: Warehouse;
    bind?: string;
    log?: (line: string) => void;
    status?: PipelineStatusProvider;
  },
): Promise<DashboardServer> {
  const temporal = opts.status ? undefined : temporalStatusProvider(config);
  const server = await startDashboardServer({
    warehouse: opts.warehouse,
    bind: opts.bind ?? config.dashboard.bind,
    symbols: config.market.symbols,
    status: opts.status ?? temporal?.provider,
    // Snowflake bills while its warehouse runs: look for new bars less often there.
    checkEveryMs: config.warehouse.kind === 'snowflake' ? 30_000 : 2000,
    log: opts.log,
  });
  return {
    url: server.url,
    async close() {
      await server.close();
      await temporal?.close();
    },
  };
}

/** Thrown by runDashboard when another process holds the DuckDB file. */
export class WarehouseBusyError extends Error {
  constructor(config: AppConfig, cause: unknown) {
    super(
      [
        `egx dashboard: the DuckDB warehouse ${config.warehouse.duckdbPath} is open in another process ` +
          '(DuckDB allows one process per file): most likely a worker, from bash scripts/run.sh or npm run worker.',
        `  - bash scripts/run.sh serves this dashboard itself, from the worker's process: open http://${config.dashboard.bind}/`,
        '  - or stop that worker and run egx dashboard again,',
        '  - or point DUCKDB_PATH at a copy of the file to browse it.',
      ].join('\n'),
      { cause },
    );
    this.name = 'WarehouseBusyError';
  }
}

/** `egx dashboard`: opens the warehouse itself and serves the dashboard until Ctrl-C. */
export async function runDashboard(
  config: AppConfig,
  opts: { bind?: string; log?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const log = opts.log ?? console.log;
  let warehouse: Warehouse;
  try {
    warehouse = await openWarehouse(config);
  } catch (e) {
    if (config.warehouse.kind === 'duckdb' && /lock/i.test(e instanceof Error ? e.message : String(e)))
      throw new WarehouseBusyError(config, e);
    throw e;
  }
  try {
    const server = await startDashboard(config, { warehouse, bind: opts.bind, log });
    log(`dashboard: ${server.url}  (${config.market.symbols.length} symbols; Ctrl-C stops it)`);
    await new Promise<void>((resolve) => {
      if (opts.signal) opts.signal.addEventListener('abort', () => resolve(), { once: true });
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
  } finally {
    await warehouse.close();
  }
}
