/**
 * The scenarios: a workload, the faults injected into it (each when the run reaches a given step),
 * and whether the stack must be left to the scenario alone (a Temporal restart or a broker outage
 * would hit every scenario running beside it).
 */
import type { ActivityMatch } from './runs.js';
import { backfill, dailyBatch, marketSession, transforms, type Workload } from './workloads.js';

export type Fault =
  /**
   * SIGKILL of the worker process; the supervisor starts a new one two seconds later. With
   * `inPublish`, Kafka is frozen first until a poll hangs in its publish, so the kill surely hits
   * a poll in flight (a poll otherwise lasts milliseconds and is often over when the kill lands).
   */
  | { kind: 'kill'; at: ActivityMatch; inPublish?: boolean }
  /**
   * SIGKILL of the worker after a poll published its bars but before Temporal heard that the poll
   * finished, so the retried poll publishes the same bars again at new offsets. Made certain with
   * frozen servers: Kafka is frozen until a poll hangs in its publish, Temporal is frozen, Kafka
   * thawed (the bars land), the worker killed, Temporal thawed.
   */
  | { kind: 'kill-after-publish'; at: ActivityMatch }
  /** A server stopped (its data kept) and started again after `seconds`. */
  | { kind: 'outage'; component: 'kafka' | 's3'; seconds: number; at: ActivityMatch }
  /** The Temporal dev server stopped and started again on the same database file. */
  | { kind: 'restart-temporal'; at: ActivityMatch }
  /**
   * The warehouse unavailable: the worker is killed and, while the supervisor restarts it, another
   * process holds the DuckDB file for `seconds` (as an analyst's `duckdb` shell would), so every
   * restart fails until it lets go.
   */
  | { kind: 'warehouse-locked'; seconds: number; at: ActivityMatch };

export interface Scenario {
  name: string;
  workload: Workload;
  faults: Fault[];
  /** Needs the stack to itself. */
  exclusive?: boolean;
  /** Scenarios with the same key never run at the same time (e.g. two that stop the S3 server). */
  serial?: string;
  /** Part of `--quick`. */
  quick?: boolean;
}

const at = (type: string, more: Omit<ActivityMatch, 'type'> = {}): ActivityMatch => ({ type, ...more });
const batch = dailyBatch('local');
const batchS3 = dailyBatch('s3');

export const SCENARIOS: Scenario[] = [
  {
    name: 'batch-kill-loads',
    workload: batch,
    faults: [
      { kind: 'kill', at: at('loadBatchFile') },
      { kind: 'kill', at: at('loadBatchFile', { minAttempt: 2 }) },
    ],
  },
  { name: 'batch-kill-gate', workload: batch, faults: [{ kind: 'kill', at: at('runQualityGate') }] },
  {
    name: 'batch-kill-builds',
    workload: batch,
    faults: [{ kind: 'kill', at: at('buildTransformModel', { occurrence: 4 }) }],
  },
  {
    name: 'transforms-kill',
    workload: transforms,
    faults: [
      { kind: 'kill', at: at('buildTransformModel', { occurrence: 2 }) },
      { kind: 'kill', at: at('testTransformModel', { occurrence: 3 }) },
      { kind: 'kill', at: at('generateTransformDocs') },
    ],
  },
  {
    name: 'session-kill',
    workload: marketSession,
    // Kafka is frozen for a few seconds, which every scenario beside it would feel.
    exclusive: true,
    faults: [
      { kind: 'kill', at: at('pollMarket', { afterSeconds: 20 }), inPublish: true },
      { kind: 'kill', at: at('consumeMarketData', { minAttempt: 2 }) },
      { kind: 'kill', at: at('pollMarket', { minAttempt: 2 }) },
    ],
  },
  {
    name: 'backfill-kill',
    workload: backfill,
    faults: [
      { kind: 'kill', at: at('backfillBars', { occurrence: 2 }) },
      { kind: 'kill', at: at('backfillBars', { minAttempt: 2 }) },
    ],
  },
  {
    name: 'batch-s3-outage',
    workload: batchS3,
    quick: true,
    serial: 's3',
    faults: [{ kind: 'outage', component: 's3', seconds: 30, at: at('loadBatchFile') }],
  },
  {
    // Longer than the loads' retries last (5 attempts over about 75 s): the run fails and must
    // alert; then the operator starts it again and it must load the same data.
    name: 'batch-s3-long-outage',
    workload: batchS3,
    serial: 's3',
    faults: [{ kind: 'outage', component: 's3', seconds: 120, at: at('loadBatchFile') }],
  },
  {
    // Both servers are frozen for a few seconds, which every scenario beside it would feel.
    name: 'session-kill-after-publish',
    workload: marketSession,
    exclusive: true,
    faults: [{ kind: 'kill-after-publish', at: at('pollMarket', { afterSeconds: 20 }) }],
  },
  {
    name: 'session-warehouse-locked',
    workload: marketSession,
    faults: [{ kind: 'warehouse-locked', seconds: 30, at: at('pollMarket', { afterSeconds: 20 }) }],
  },
  {
    name: 'session-kafka-outage',
    workload: marketSession,
    exclusive: true,
    faults: [{ kind: 'outage', component: 'kafka', seconds: 30, at: at('pollMarket', { afterSeconds: 20 }) }],
  },
  {
    name: 'batch-temporal-restart',
    workload: batchS3,
    exclusive: true,
    quick: true,
    faults: [
      { kind: 'restart-temporal', at: at('loadBatchFile') },
      { kind: 'restart-temporal', at: at('buildTransformModel', { occurrence: 3 }) },
    ],
  },
  {
    name: 'session-temporal-restart',
    workload: marketSession,
    exclusive: true,
    faults: [{ kind: 'restart-temporal', at: at('pollMarket', { afterSeconds: 40 }) }],
  },
  {
    name: 'backfill-temporal-restart',
    workload: backfill,
    exclusive: true,
    faults: [
      { kind: 'restart-temporal', at: at('backfillBars', { occurrence: 3 }) },
      { kind: 'restart-temporal', at: at('buildTransformModel', { occurrence: 2 }) },
    ],
  },
];

/**
 * Time each fault may add before the run counts as stuck: a dead worker's activity is retried once
 * its heartbeat timeout (at most 2 minutes, issue 13) has passed, plus a worker restart; an outage
 * adds its own length.
 */
export function recoveryBudgetMs(f: Fault): number {
  switch (f.kind) {
    case 'kill':
      return 150_000;
    case 'kill-after-publish':
      // The poll's start-to-close timeout (2 minutes; it does not heartbeat), then the retry.
      return 180_000;
    case 'outage':
      return f.seconds * 1000 + 120_000;
    case 'restart-temporal':
      return 120_000;
    case 'warehouse-locked':
      return f.seconds * 1000 + 150_000;
  }
}

export function describeFault(f: Fault): string {
  const { type, minAttempt, occurrence, afterSeconds } = f.at;
  const where = `${type}${minAttempt ? ' retry' : ''}${occurrence ? ` #${occurrence}` : ''}${afterSeconds ? ` after ${afterSeconds} s` : ''}`;
  switch (f.kind) {
    case 'kill':
      return `SIGKILL worker during ${where}${f.inPublish ? ' (in its publish, Kafka frozen)' : ''}`;
    case 'kill-after-publish':
      return `SIGKILL worker after a poll published, before Temporal heard (${where})`;
    case 'outage':
      return `${f.component} stopped ${f.seconds} s during ${where}`;
    case 'restart-temporal':
      return `Temporal restarted during ${where}`;
    case 'warehouse-locked':
      return `SIGKILL + DuckDB locked ${f.seconds} s during ${where}`;
  }
}
