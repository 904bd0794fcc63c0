import { createHash } from 'node:crypto';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import cliProgress from 'cli-progress';
import type { AppConfig } from '../lib/config.js';
import { parseSymbolList } from '../lib/market/symbol.js';
import { parseBusinessDate } from '../lib/util/dates.js';
import { withClient } from '../temporal-config/connection.js';
import { SA } from '../temporal-config/search-attribute-keys.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import type { BackfillProgress, BackfillStep, backfillWorkflow } from '../workflows/backfill.js';

export interface BackfillRequest {
  from: string;
  to: string;
  symbols: string[];
  steps: BackfillStep[];
  chunkDays?: number;
  parallel?: number;
  taskQueue?: string;
  /** Makes a new backfill of the same range (the --force option): finished chunks run again. */
  salt?: string;
}

/** The same request always gets the same workflow ID: starting it again joins the running one, or reruns only what is unfinished. */
export function backfillId(r: BackfillRequest): string {
  const what = createHash('sha256')
    .update(JSON.stringify([[...r.symbols].sort(), [...r.steps].sort(), r.chunkDays ?? 365, r.salt ?? '']))
    .digest('hex')
    .slice(0, 8);
  return `backfill-${r.from}-${r.to}-${what}`;
}

export function parseBackfillRequest(
  config: AppConfig,
  opts: { from?: string; to?: string; symbols?: string | string[]; steps?: string; force?: boolean },
): BackfillRequest {
  if (!opts.from) throw new Error('egx backfill: give --from YYYY-MM-DD');
  if (!opts.to) throw new Error('egx backfill: give --to YYYY-MM-DD');
  parseBusinessDate(opts.from, 'egx backfill --from');
  parseBusinessDate(opts.to, 'egx backfill --to');
  if (opts.to < opts.from) throw new Error(`egx backfill: --to ${opts.to} is before --from ${opts.from}`);
  const steps = (opts.steps ?? 'load,transforms').split(',').map((s) => s.trim());
  const bad = steps.filter((s) => s !== 'load' && s !== 'transforms');
  if (bad.length)
    throw new Error(`egx backfill: unknown step(s) ${bad.join(', ')} (expected load, transforms)`);
  // The one ticker schema: `../../COMI` or `CОMI` (Cyrillic О) never reaches a workflow or an object key.
  const symbols = opts.symbols ? parseSymbolList(opts.symbols) : config.market.symbols;
  return {
    from: opts.from,
    to: opts.to,
    symbols,
    steps: steps as BackfillStep[],
    ...(opts.force ? { salt: new Date().toISOString() } : {}),
  };
}

/** Starts (or joins) the backfill workflow; returns its ID and Web UI link. */
export function startBackfill(
  config: AppConfig,
  r: BackfillRequest,
): Promise<{ workflowId: string; url: string }> {
  return withClient(config, async (client) => {
    const workflowId = backfillId(r);
    await client.workflow.start<typeof backfillWorkflow>('backfillWorkflow', {
      taskQueue: r.taskQueue ?? TASK_QUEUES.pipeline,
      workflowId,
      args: [
        {
          from: r.from,
          to: r.to,
          symbols: r.symbols,
          steps: r.steps,
          chunkDays: r.chunkDays,
          parallel: r.parallel,
        },
      ],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [
        { key: SA.pipeline, value: 'backfill' },
        { key: SA.businessDate, value: r.from },
        { key: SA.symbols, value: r.symbols },
      ],
    });
    return {
      workflowId,
      url: `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${workflowId}`,
    };
  });
}

/** Follows a backfill to its end with a live progress bar (on a terminal) and returns its final progress. */
export function followBackfill(
  config: AppConfig,
  workflowId: string,
  out: NodeJS.WriteStream = process.stderr,
): Promise<BackfillProgress> {
  return withClient(config, async (client) => {
    const h = client.workflow.getHandle<typeof backfillWorkflow>(workflowId);
    const bar = new cliProgress.SingleBar(
      {
        stream: out,
        format: 'backfill |{bar}| {value}/{total} chunks · {bars} bars · {state}',
        hideCursor: true,
        // Not a terminal (CI, a log file): a line every few seconds instead of redrawing.
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const update = (p: BackfillProgress) => {
      const state = p.cancelled
        ? 'cancelling'
        : p.paused
          ? 'paused'
          : p.transforms === 'running'
            ? 'rebuilding models'
            : `${p.running} running`;
      const payload = { bars: p.bars, state };
      if (!started) {
        bar.start(p.chunks, p.done + p.skipped, payload);
        started = true;
      } else bar.update(p.done + p.skipped, payload);
    };
    const timer = setInterval(() => {
      h.query<BackfillProgress>('progress').then(update, () => undefined);
    }, 500);
    try {
      const result = await h.result();
      update(result);
      return result;
    } finally {
      clearInterval(timer);
      if (started) bar.stop();
    }
  });
}

export function formatBackfill(p: BackfillProgress, workflowId: string): string {
  return [
    `backfill ${workflowId}: ${p.done} chunk(s) loaded, ${p.skipped} already done, ${p.failed.length} failed of ${p.chunks}; ${p.bars} bars`,
    `models: ${p.transforms}${p.cancelled ? ' (cancelled)' : ''}`,
  ].join('\n');
}

/** Pause, resume or cancel a running backfill. */
export function controlBackfill(
  config: AppConfig,
  workflowId: string,
  action: 'pause' | 'resume' | 'cancel',
): Promise<BackfillProgress> {
  return withClient(config, async (client) => {
    const h = client.workflow.getHandle(workflowId);
    await h.signal(action);
    return h.query<BackfillProgress>('progress');
  });
}
