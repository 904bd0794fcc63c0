import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BackfillActivities } from '../activities/backfill.js';
import { alertOnFailure, failTyped, rootCause } from './alerting.js';
import { requireBusinessDate, tagRun } from './business-date.js';
import { pooled } from './concurrency.js';
import { transformsWorkflow } from './transforms.js';

export type BackfillStep = 'load' | 'transforms';

export interface BackfillInput {
  /** Cairo dates, inclusive. */
  from: string;
  to: string;
  symbols: string[];
  steps?: BackfillStep[];
  /** Days per chunk (default 365). */
  chunkDays?: number;
  /** Chunks loading at once (default 4). */
  parallel?: number;
}

export interface BackfillProgress {
  chunks: number;
  done: number;
  /** Chunks a previous run of this backfill had finished already. */
  skipped: number;
  running: number;
  failed: { chunk: string; error: string }[];
  bars: number;
  paused: boolean;
  cancelled: boolean;
  transforms: 'pending' | 'running' | 'done' | 'not requested' | 'not run';
}

export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');
export const pauseBackfillSignal = defineSignal('pause');
export const resumeBackfillSignal = defineSignal('resume');
/** Starts no more chunks; the running ones finish; transforms are not run. */
export const cancelBackfillSignal = defineSignal('cancel');

const act = proxyActivities<BackfillActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
});

/** Inclusive Cairo-date ranges of `days` days covering from..to. */
export function chunkDates(from: string, to: string, days: number): { from: string; to: string }[] {
  const day = 86_400_000;
  const end = Date.parse(`${to}T00:00:00Z`);
  const out: { from: string; to: string }[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += days * day) {
    out.push({
      from: new Date(t).toISOString().slice(0, 10),
      to: new Date(Math.min(end, t + (days - 1) * day)).toISOString().slice(0, 10),
    });
  }
  return out;
}

/** One chunk of a backfill: its own run, so the Web UI shows it and a rerun of the backfill skips it once done. */
export async function backfillChunkWorkflow(input: { from: string; to: string; symbols: string[] }) {
  return failTyped(async () => {
    tagRun('backfill', input.from);
    return act.backfillBars.executeWithOptions(
      { summary: `${input.symbols.length} symbols, ${input.from}..${input.to}` },
      [input],
    );
  });
}

/**
 * A backfill over a date range, started by an engineer: chunks run as child workflows with
 * deterministic IDs (at most `parallel` at once), so a rerun skips the chunks already finished; then
 * the models are rebuilt once. Answers `progress`; takes pause, resume and cancel.
 */
export async function backfillWorkflow(input: BackfillInput): Promise<BackfillProgress> {
  return alertOnFailure('backfill', `${input.from}..${input.to}`, () => runBackfill(input));
}

async function runBackfill(input: BackfillInput): Promise<BackfillProgress> {
  tagRun('backfill', input.from);
  requireBusinessDate(input.from, 'backfill from');
  requireBusinessDate(input.to, 'backfill to');
  if (input.to < input.from) {
    throw ApplicationFailure.nonRetryable(
      `backfill: need from <= to as YYYY-MM-DD, got ${input.from}..${input.to}`,
      'BadInput',
    );
  }
  const steps = input.steps ?? ['load', 'transforms'];
  const chunks = steps.includes('load') ? chunkDates(input.from, input.to, input.chunkDays ?? 365) : [];
  const p: BackfillProgress = {
    chunks: chunks.length,
    done: 0,
    skipped: 0,
    running: 0,
    failed: [],
    bars: 0,
    paused: false,
    cancelled: false,
    transforms: steps.includes('transforms') ? 'pending' : 'not requested',
  };
  setHandler(backfillProgressQuery, () => p);
  setHandler(pauseBackfillSignal, () => void (p.paused = true));
  setHandler(resumeBackfillSignal, () => void (p.paused = false));
  setHandler(cancelBackfillSignal, () => void (p.cancelled = true));

  const showProgress = () =>
    setCurrentDetails(
      `backfill ${input.from}..${input.to}, ${input.symbols.length} symbols\n\nchunks ${p.done + p.skipped}/${p.chunks} done (${p.skipped} from an earlier run), ${p.running} running, ${p.failed.length} failed; ${p.bars.toLocaleString('en-US')} bars${p.paused ? ' (PAUSED)' : ''}`,
    );
  showProgress();
  const base = workflowInfo().workflowId;
  await pooled(chunks, input.parallel ?? 4, async (c) => {
    await condition(() => !p.paused || p.cancelled);
    if (p.cancelled) return;
    p.running++;
    try {
      const r = await executeChild(backfillChunkWorkflow, {
        staticSummary: `backfill chunk ${c.from}..${c.to}, ${input.symbols.length} symbols`,
        workflowId: `${base}-${c.from}`,
        args: [{ ...c, symbols: input.symbols }],
        // A chunk that finished in an earlier run of this backfill is not run again; a failed one is.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
      p.done++;
      p.bars += r.bars;
      showProgress();
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) p.skipped++;
      else p.failed.push({ chunk: `${c.from}..${c.to}`, error: rootCause(e).message });
    } finally {
      p.running--;
    }
  });

  if (p.failed.length > 0) {
    throw ApplicationFailure.create({
      type: 'ChunksFailed',
      nonRetryable: true,
      message: `backfill: ${p.failed.length} of ${p.chunks} chunk(s) failed: ${p.failed.map((f) => `${f.chunk}: ${f.error}`).join('; ')}; run the same backfill again to retry them`,
      details: [p],
    });
  }
  if (p.transforms === 'pending') {
    if (p.cancelled) p.transforms = 'not run';
    else {
      p.transforms = 'running';
      await executeChild(transformsWorkflow, {
        staticSummary: `full rebuild of the models after the backfill ${input.from}..${input.to}`,
        workflowId: `${base}-transforms`,
        args: [{ businessDate: input.to, fullRefresh: true }],
      });
      p.transforms = 'done';
    }
  }
  return p;
}
