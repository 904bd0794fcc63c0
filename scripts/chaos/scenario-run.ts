/**
 * Runs one scenario end to end in its own namespace, directory, topic and bucket: input, worker,
 * main run with its faults, a rerun after a failure (as an operator would), the stream draining,
 * then the final state compared with the fault-free reference.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import { STREAM_CONSUMER_ID } from '../../cli/stream.js';
import { openObjectStore } from '../../lib/adapters.js';
import { loadConfig } from '../../lib/config.js';
import { taskQueuePollers } from '../../temporal-config/cluster.js';
import { TASK_QUEUES } from '../../temporal-config/task-queues.js';
import type { AlertReceiver } from './alerts.js';
import { compareSnapshots, type Snapshot, type SnapshotDiff } from './compare.js';
import { inject } from './faults.js';
import { awaitRun, inFlight, terminateQuietly, waitForActivity, type RunEnd } from './runs.js';
import { describeFault, recoveryBudgetMs, type Fault } from './scenarios.js';
import { snapshotDuckDb, snapshotStore } from './snapshot.js';
import {
  chaosServerEnv,
  consumerLag,
  createNamespace,
  createTopic,
  profile,
  topicMessages,
} from './stack.js';
import { SupervisedWorker } from './worker.js';
import { SYMBOLS, type MainRun, type Workload, type WorkloadContext } from './workloads.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SuiteEnv {
  workRoot: string;
  connection: Connection;
  kafka: Kafka;
  alerts: AlertReceiver;
  log(line: string): void;
}

export interface Reference {
  snapshot: Snapshot;
  durationMs: number;
}

export type Outcome = 'completed' | 'rerun completed' | 'failed' | 'stuck' | 'error';

export interface ScenarioResult {
  name: string;
  workload: string;
  planned: number;
  injected: { fault: string; note: string; at: number }[];
  outcome: Outcome;
  /** What went wrong, or what the run said when it failed. */
  detail: string;
  durationMs?: number;
  /** From the first fault to the run's completion. */
  recoveryMs?: number;
  /** Duration minus the reference's. */
  delayMs?: number;
  diff?: SnapshotDiff;
  alerts: string[];
  /** A run failed, so one alert was due. */
  alertExpected: boolean;
  alertMissing: boolean;
  /**
   * A session's bus: messages its topic ended with and bars archived. More messages than bars
   * means retried polls published bars again, which the sinks must have kept once.
   */
  stream?: { messages?: number; bars: number };
}

/** Without a fault: the run, the stream drain and the worker's start-up within this long. */
const BASE_DEADLINE_MS = 240_000;

/** Waits until a worker polls both kinds of task of the pipeline queue (it has started). */
async function waitForPollers(connection: Connection, namespace: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const polled = await taskQueuePollers(connection, namespace, [
        { name: TASK_QUEUES.pipeline, kinds: ['workflow', 'activity'] },
      ]);
      if (polled.every((p) => p.pollers > 0)) return;
    } catch {
      /* not yet */
    }
    await sleep(500);
  }
  throw new Error('no worker polled the task queue within the deadline');
}

export async function runScenario(
  env: SuiteEnv,
  spec: { name: string; workload: Workload; faults: Fault[] },
  reference?: Reference,
): Promise<{ result: ScenarioResult; snapshot?: Snapshot }> {
  const { name, workload, faults } = spec;
  const log = (line: string) => env.log(`[${name}] ${line}`);
  const dir = join(env.workRoot, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const namespace = `chaos-${name}`;
  const topic = `chaos.${name}`;
  const bucket = `chaos-${name}`.slice(0, 63);
  const scenarioEnv: Record<string, string> = {
    ...chaosServerEnv(),
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_UI_URL: `http://127.0.0.1:${profile.ports.temporalUi}`,
    OBJECT_STORE: workload.objectStore,
    LAKE_DIR: join(dir, 'lake'),
    S3_BUCKET: bucket,
    DUCKDB_PATH: join(dir, 'egx.duckdb'),
    DOCS_DIR: join(dir, 'docs'),
    ARTIFACTS_DIR: join(dir, 'artifacts'),
    BUS: 'kafka',
    KAFKA_TOPIC: topic,
    MARKET_SOURCE: 'simulator',
    ALERT_WEBHOOK_URL: env.alerts.urlFor(name),
    LOG_LEVEL: 'INFO',
  };
  scenarioEnv.EGX_SYMBOLS = SYMBOLS.join(',');
  const config = loadConfig(scenarioEnv);
  const store = await openObjectStore(config);
  const client = new Client({ connection: env.connection, namespace });
  const ctx: WorkloadContext = { config, client, store, groupId: `chaos-${name}` };
  const worker = new SupervisedWorker(scenarioEnv, join(dir, 'worker.log'));
  const result: ScenarioResult = {
    name,
    workload: workload.name,
    planned: faults.length,
    injected: [],
    outcome: 'error',
    detail: '',
    alerts: [],
    alertExpected: false,
    alertMissing: false,
  };
  const rename = (s: string) =>
    s.split(dir).join('<dir>').split(topic).join('<topic>').split(bucket).join('<bucket>');
  let snapshot: Snapshot | undefined;
  try {
    await createNamespace(env.connection, namespace);
    if (workload.streams) await createTopic(env.kafka, topic);
    await workload.prepare(ctx);
    worker.start();
    await waitForPollers(env.connection, namespace, Date.now() + 240_000);
    if (workload.setup) await withTimeout(workload.setup(ctx), 180_000, 'setup');

    const t0 = Date.now();
    let deadline = t0 + (reference ? reference.durationMs + 60_000 : BASE_DEADLINE_MS);
    let main: MainRun = await workload.start(ctx);
    log(`started ${main.workflowId}`);
    let end: RunEnd | undefined;
    const ended = awaitRun(main.handle, () => deadline).then((e) => (end = e));
    // Faults are timed on the main run's activities, its children's and the stream consumer's.
    const watched = [main.workflowId, ...(workload.streams ? [STREAM_CONSUMER_ID] : [])];
    for (const f of faults) {
      const hit = await waitForActivity(
        client,
        watched,
        { ...f.at, runStartedAt: t0 },
        () => !!end || Date.now() > deadline,
      );
      if (!hit) break;
      const at = Date.now();
      deadline += recoveryBudgetMs(f);
      const note = await inject(f, { worker, duckdbPath: scenarioEnv.DUCKDB_PATH!, kafka: env.kafka, topic });
      const inFlight = hit
        .filter((a) => a.started)
        .map((a) => `${a.type}#${a.attempt}`)
        .join(', ');
      result.injected.push({ fault: describeFault(f), note: `${note}; in flight: ${inFlight}`, at });
      log(`fault: ${describeFault(f)}: ${note}; in flight: ${inFlight}`);
    }
    await ended;
    let runEnd = end!;
    if (runEnd.status === 'failed') {
      result.alertExpected = true;
      result.detail = `run failed: ${runEnd.error}`;
      log(result.detail);
      // The failing run sends it itself, naming the run; give the webhook a moment.
      const failedId = main.workflowId;
      const named = () => env.alerts.alertsOf(name).some((a) => a.text.includes(failedId));
      const until = Date.now() + 20_000;
      while (!named() && Date.now() < until) await sleep(500);
      result.alertMissing = !named();
      // What the on-call engineer does next: start the same run again.
      deadline = Date.now() + (reference?.durationMs ?? BASE_DEADLINE_MS) + 120_000;
      main = await workload.start(ctx);
      log(`rerun ${main.workflowId}`);
      runEnd = await awaitRun(main.handle, () => deadline);
      if (runEnd.status === 'completed') result.outcome = 'rerun completed';
    } else if (runEnd.status === 'completed') result.outcome = 'completed';
    if (runEnd.status === 'stuck') {
      result.outcome = 'stuck';
      result.detail ||= await stuckDetail(client, main.workflowId);
      await terminateQuietly(main.handle, 'chaos suite: missed its deadline');
    } else if (runEnd.status === 'failed' && result.outcome !== 'rerun completed') {
      result.outcome = 'failed';
      result.detail = `${result.detail}; rerun failed too: ${runEnd.error}`;
    }
    result.durationMs = runEnd.at - t0;
    if (result.injected.length > 0 && result.outcome.endsWith('completed'))
      result.recoveryMs = runEnd.at - result.injected[0]!.at;
    if (reference && result.outcome.endsWith('completed'))
      result.delayMs = result.durationMs - reference.durationMs;

    if (workload.streams && result.outcome.endsWith('completed')) {
      const drained = await drainStream(env.kafka, ctx.groupId, topic, deadline);
      if (!drained) {
        result.outcome = 'stuck';
        result.detail = `the stream consumer had not caught up with ${topic} by the deadline`;
      }
      await stopConsumer(client);
      result.stream = { messages: await topicMessages(env.kafka, topic), bars: 0 };
    }
    await worker.stop();
    if (result.outcome.endsWith('completed')) {
      snapshot = {
        tables: await snapshotDuckDb(scenarioEnv.DUCKDB_PATH!, rename),
        ...(await snapshotStore(store, rename)),
      };
      if (reference) result.diff = compareSnapshots(reference.snapshot, snapshot);
      if (result.stream) result.stream.bars = snapshot.bars.length;
    }
  } catch (e) {
    result.outcome = 'error';
    result.detail = `suite error: ${e instanceof Error ? e.message : String(e)}`;
    log(result.detail);
  } finally {
    await worker.stop(15_000);
    result.alerts = env.alerts.alertsOf(name).map((a) => a.text.split('\n')[0] ?? '');
  }
  log(`${result.outcome}${result.detail ? `: ${result.detail}` : ''}`);
  return { result, snapshot };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a run that missed its deadline was waiting for, for the report. */
async function stuckDetail(client: Client, workflowId: string): Promise<string> {
  try {
    const now = await inFlight(client, workflowId);
    const what = now.map((a) => `${a.type}#${a.attempt} ${a.started ? 'started' : 'scheduled'}`);
    return `missed its deadline; in flight: ${what.join(', ') || 'nothing'}`;
  } catch (e) {
    return `missed its deadline (${(e as Error).message})`;
  }
}

/** Waits until the consumer group has committed everything on the topic. */
async function drainStream(kafka: Kafka, groupId: string, topic: string, deadline: number): Promise<boolean> {
  for (;;) {
    if ((await consumerLag(kafka, groupId, topic)) === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(1000);
  }
}

async function stopConsumer(client: Client): Promise<void> {
  const h = client.workflow.getHandle(STREAM_CONSUMER_ID);
  await h.cancel().catch(() => undefined);
  const until = Date.now() + 45_000;
  while (Date.now() < until) {
    const d = await h.describe().catch(() => undefined);
    if (!d || d.status.name !== 'RUNNING') return;
    await sleep(500);
  }
  await terminateQuietly(h, 'chaos suite: scenario over');
}
