/**
 * Records the event histories the replay test (tests/replay) replays against the current workflow
 * code: `npm run histories:record -- tests/replay/histories/<set>` (a new folder; an existing one
 * is never overwritten).
 *
 * Starts a Temporal dev server and a Kafka broker of its own on free ports (no shared profile, no
 * lock), seeds a small synthetic history into a fresh local object store and DuckDB file, runs the
 * pipeline worker and the stream worker on the embedded defaults, then runs every workflow type
 * the workers register at least once for real (plus cheap failure paths), and writes each
 * history as the JSON `temporal workflow show --output json` gives, with an `index.json` naming
 * each file's workflow ID and type (histories do not carry the ID, and some workflows use it).
 * Children are found in their parent's history; a run of any other type on the server (started by
 * another run) is saved as it stands. Exits 1 when a registered workflow type has no history: add
 * a run of it below.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { DefaultLogger, makeTelemetryFilterString, Runtime, type Worker } from '@temporalio/worker';
import { createKafka } from '../lib/bus/kafka.js';
import { loadConfig } from '../lib/config.js';
import { seedSyntheticHistory } from '../lib/sources/history-files.js';
import { SimulatorSource } from '../lib/sources/simulator.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { PROFILES, PROJECT_ROOT, stackEnv, VERSIONS, type StackProfile } from './devstack/profile.js';
import { down, install, up } from './devstack/stack.js';
import {
  connectWorker,
  createPipelineWorker,
  createStreamWorker,
  openWorkerDeps,
} from '../workers/pipeline-worker.js';
import { historyToJson } from '../tests/replay/history-json.js';
import * as registered from '../workflows/index.js';

const EventType = proto.temporal.api.enums.v1.EventType;

export interface RecordedHistory {
  /** File name in the set's folder. */
  file: string;
  workflowType: string;
  /** The ID the run had: replay passes it back, since workflows build child IDs and run IDs from it. */
  workflowId: string;
  runId: string;
  /** How the recorded run ended (or `Terminated` for a run that was stuck and stopped by the recorder). */
  status: string;
  /** What this run exercises. */
  note: string;
}

export interface HistorySetIndex {
  recordedAt: string;
  /** The commit whose workflow code produced these histories. */
  commit: string;
  temporalCli: string;
  histories: RecordedHistory[];
}

const log = (line: string) => console.log(`[record] ${line}`);

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** A throw-away stack profile: the shared installs, a temporary run folder and free ports. */
async function privateProfile(runDir: string): Promise<StackProfile> {
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePort());
  const [temporalPort, temporalUi, temporalHttp, temporalMetrics, kafka, kafkaController] = [...ports] as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    ...PROFILES.bench,
    runDir,
    components: ['temporal', 'kafka'],
    ports: {
      ...PROFILES.bench.ports,
      temporal: temporalPort,
      temporalUi,
      temporalHttp,
      temporalMetrics,
      kafka,
      kafkaController,
    },
  };
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'workflows'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (workflows/ modified)` : head;
  } catch {
    return 'unknown';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const outArg = process.argv[2];
  if (!outArg || outArg.startsWith('-')) {
    console.error(
      'usage: npm run histories:record -- <output folder, e.g. tests/replay/histories/YYYY-MM-DD-name>',
    );
    process.exit(2);
  }
  const outDir = resolve(outArg);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    console.error(`${outDir} is not empty: a recorded set is never overwritten; pick a new folder`);
    process.exit(2);
  }

  const runDir = mkdtempSync(join(tmpdir(), 'egx-record-'));
  const profile = await privateProfile(runDir);
  const stackLog = (l: string) => log(`[stack] ${l}`);
  // Quiet: the runs that fail on purpose would fill the screen (their failures are in the histories).
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  await install(profile, stackLog, ['temporal', 'kafka']);
  await up(profile, stackLog, ['temporal', 'kafka']);

  const symbols = ['COMI', 'ETEL'];
  const config = loadConfig({
    ...stackEnv(profile),
    OBJECT_STORE: 'local',
    LAKE_DIR: join(runDir, 'lake'),
    DUCKDB_PATH: join(runDir, 'egx.duckdb'),
    DOCS_DIR: join(runDir, 'docs'),
    ARTIFACTS_DIR: join(runDir, 'artifacts'),
    BUS: 'kafka',
    MARKET_SOURCE: 'simulator',
    EGX_SYMBOLS: symbols.join(','),
    KAFKA_TOPIC: 'egx_market_data',
  });
  const deps = await openWorkerDeps(config);
  const native = await connectWorker(config);
  const workers: Worker[] = [
    await createPipelineWorker(config, native, {}, deps),
    await createStreamWorker(config, native, {}, deps),
  ];
  const running = workers.map((w) => w.run());
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const recorded: RecordedHistory[] = [];

  /** Writes the history of a finished (or stopped) run. */
  const save = async (name: string, handle: WorkflowHandle, note: string, runId?: string): Promise<void> => {
    const h = runId ? client.workflow.getHandle(handle.workflowId, runId) : handle;
    const d = await h.describe();
    const history = await h.fetchHistory();
    let file = `${d.type}--${name}.json`;
    for (let n = 2; recorded.some((r) => r.file === file); n++) file = `${d.type}--${name}-${n}.json`;
    writeFileSync(join(outDir, file), historyToJson(history));
    recorded.push({
      file,
      workflowType: d.type,
      workflowId: d.workflowId,
      runId: d.runId,
      status: d.status.name,
      note,
    });
    log(`${file}: ${d.status.name}, ${history.events?.length ?? 0} events`);
  };

  /** Writes the history of the first child of each type the parent started (IDs from the parent's history, whatever the naming scheme). */
  const saveChildren = async (parent: WorkflowHandle, label: string): Promise<void> => {
    const seen = new Set<string>();
    for (const e of (await parent.fetchHistory()).events ?? []) {
      const a = e.childWorkflowExecutionStartedEventAttributes;
      const type = a?.workflowType?.name;
      const id = a?.workflowExecution?.workflowId;
      if (!type || !id || seen.has(type)) continue;
      seen.add(type);
      await save(`${label}-child`, client.workflow.getHandle(id), `a child of ${parent.workflowId}`);
    }
  };

  /** Any run of a type not saved yet (started by another run, not by this script), as it stands. */
  const saveTheRest = async (): Promise<void> => {
    const saved = new Set(recorded.map((r) => r.workflowType));
    for await (const w of client.workflow.list()) {
      if (saved.has(w.type)) continue;
      saved.add(w.type);
      await save('seen', client.workflow.getHandle(w.workflowId, w.runId), 'started by another run');
    }
  };

  const start = (type: string, workflowId: string, args: unknown[] = []) =>
    client.workflow.start(type, { taskQueue: TASK_QUEUES.pipeline, workflowId, args });

  const settle = async (h: WorkflowHandle) => {
    try {
      return { ok: true as const, value: (await h.result()) as unknown };
    } catch (e) {
      return { ok: false as const, error: e as Error };
    }
  };

  /** For a run the current code leaves stuck (a plain Error retried for ever): wait for its failed task, then terminate it. */
  const stopWhenStuck = async (h: WorkflowHandle) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const events = (await h.fetchHistory()).events ?? [];
      if (events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)) break;
      const { status } = await h.describe();
      if (status.name !== 'RUNNING') return;
      if (Date.now() > deadline) throw new Error(`${h.workflowId}: neither failed nor finished in 60 s`);
      await sleep(500);
    }
    await h.terminate('stuck on a failing workflow task; stopped by the history recorder');
  };

  try {
    mkdirSync(outDir, { recursive: true });
    const seeded = await seedSyntheticHistory({
      source: new SimulatorSource(),
      store: deps.store,
      symbols,
      from: '2026-10-01',
      to: '2026-11-18',
    });
    log(`seeded ${seeded.bars} daily bars in ${seeded.files} files`);

    // Health: all up (Kafka, the local store and DuckDB), and with the operational observations.
    const healthOk = await start('healthCheckWorkflow', 'rec-health-ok', [{ attempts: 1 }]);
    await settle(healthOk);
    await save('ok', healthOk, 'every component up');
    const healthOps = await start('healthCheckWorkflow', 'rec-health-operations', [
      { attempts: 1, operations: true },
    ]);
    await settle(healthOps);
    await save('operations', healthOps, 'with the operational checks (lag, dead letters, freshness, disk)');

    // Daily batch: loads the seeded files, passes the gate, runs the transforms child, cleans up.
    const batch = await start('dailyBatchWorkflow', 'rec-daily-batch-2026-11-19', [
      { businessDate: '2026-11-19' },
    ]);
    await settle(batch);
    await save('ok', batch, 'load, quality gate, transforms child, cleanup');
    await saveChildren(batch, 'daily-batch');
    // The newest price is weeks older than this business date: the quality gate fails the run.
    const stale = await start('dailyBatchWorkflow', 'rec-daily-batch-2027-01-15', [
      { businessDate: '2027-01-15' },
    ]);
    await settle(stale);
    await save(
      'quality-gate-failed',
      stale,
      'nothing new to load, the freshness check fails: QualityGateFailed',
    );

    // Market session: a closed day, and a demo replay of a trading day at 2000x that continues as
    // new every 6 polls and takes the signals.
    const closed = await start('marketSessionWorkflow', 'rec-market-session-2026-11-20', [
      { tradingDate: '2026-11-20', symbols },
    ]);
    await settle(closed);
    await save('closed-day', closed, 'a Friday: completes at once, saying why');
    const demo = await start('marketSessionWorkflow', 'rec-market-session-2026-11-19', [
      { tradingDate: '2026-11-19', symbols, pollMinutes: 15, maxPollsPerRun: 6, demo: { speed: 2000 } },
    ]);
    const firstRunId = demo.firstExecutionRunId;
    await sleep(1500);
    await demo.signal('setSymbols', [...symbols, 'SWDY']).catch(() => undefined);
    await demo.signal('pollNow').catch(() => undefined);
    const demoResult = await settle(client.workflow.getHandle(demo.workflowId));
    if (!demoResult.ok) log(`demo session failed: ${demoResult.error.message}`);
    await save('demo-first-run', demo, 'demo replay: first run, signals, continues as new', firstRunId);
    await save(
      'demo-last-run',
      client.workflow.getHandle(demo.workflowId),
      'demo replay: the run that completes',
    );
    // Without a date (not started by a schedule): the current code throws a plain Error.
    const noDate = await start('marketSessionWorkflow', 'rec-market-session-no-date', [{ symbols }]);
    await stopWhenStuck(noDate);
    await save('no-date', noDate, 'no trading date: fails (or, before typed failures, gets stuck)');

    // Stream consumer: drains what the demo session published, then a bad message is dead-lettered.
    const consumer = await start('streamConsumerWorkflow', 'rec-stream-consumer', [
      { roundSeconds: 30, stopWhenIdleSeconds: 2 },
    ]);
    await settle(consumer);
    await save('drained', consumer, 'consumes the demo session from Kafka until idle');
    const producer = createKafka(config.kafka, { clientId: 'egx-record' }).producer();
    await producer.connect();
    await producer.send({ topic: config.kafka.topic, messages: [{ key: 'COMI', value: 'not a bar' }] });
    await producer.disconnect();
    const dlq = await start('streamConsumerWorkflow', 'rec-stream-consumer-dlq', [
      { roundSeconds: 30, stopWhenIdleSeconds: 2 },
    ]);
    await settle(dlq);
    await save('dead-letter', dlq, 'one undecodable message: dead-lettered and alerted');

    // Transforms on their own, with the streamed-data freshness check.
    const transforms = await start('transformsWorkflow', 'rec-transforms-2026-11-19', [
      { businessDate: '2026-11-19', asOf: '2026-11-19T13:00:00.000Z' },
    ]);
    await settle(transforms);
    await save('ok', transforms, 'every model built and tested, streamed-data freshness checked');

    // Backfill: two chunks then a full refresh; one cancelled after a pause; one with bad dates.
    const backfill = await start('backfillWorkflow', 'rec-backfill-2026-11', [
      { from: '2026-11-01', to: '2026-11-08', symbols: ['COMI'], chunkDays: 4, parallel: 2 },
    ]);
    await settle(backfill);
    await save('ok', backfill, 'two chunks as children, then the transforms child');
    await saveChildren(backfill, 'backfill');
    const cancelled = await start('backfillWorkflow', 'rec-backfill-cancelled', [
      { from: '2026-10-01', to: '2026-10-06', symbols: ['COMI'], chunkDays: 1, parallel: 1 },
    ]);
    await cancelled.signal('pause');
    await cancelled.query('progress').catch(() => undefined);
    await cancelled.signal('resume');
    await sleep(300);
    await cancelled.signal('cancel');
    await settle(cancelled);
    await save(
      'paused-then-cancelled',
      cancelled,
      'pause, resume, cancel: running chunks finish, no transforms',
    );
    const badDates = await start('backfillWorkflow', 'rec-backfill-bad-dates', [
      { from: '2026-11-10', to: '2026-11-01', symbols: ['COMI'] },
    ]);
    await stopWhenStuck(badDates);
    await save('bad-dates', badDates, 'from after to: fails (or, before typed failures, gets stuck)');

    // Weekly maintenance: the full-refresh transforms child, archive, optimise.
    const maintenance = await start('weeklyMaintenanceWorkflow', 'rec-maintenance-2026-11-21', [
      { businessDate: '2026-11-21' },
    ]);
    await settle(maintenance);
    await save('ok', maintenance, 'transforms child, archive of old streamed bars, optimise');
    await saveChildren(maintenance, 'maintenance');

    // What a schedule starts, when the workers register it: a launcher that starts or follows the
    // job's run by its business key (started here without a schedule: today's date).
    if ('scheduledRunWorkflow' in registered) {
      const launcher = await start('scheduledRunWorkflow', 'rec-scheduled-transforms', [
        { job: 'transforms', idPrefix: 'rec-scheduled-' },
      ]);
      await settle(launcher);
      await save(
        'transforms',
        launcher,
        'a scheduled transforms run: starts the run by its business key and follows it',
      );
    }

    // Kafka stopped: the health check fails and alerts.
    workers[1]!.shutdown();
    await running[1];
    await down(profile, stackLog, ['kafka']);
    const healthDown = await start('healthCheckWorkflow', 'rec-health-kafka-down', [
      { attempts: 1, alert: true },
    ]);
    await settle(healthDown);
    await save('kafka-down', healthDown, 'Kafka stopped: HealthCheckFailed and an alert');

    await saveTheRest();

    const index: HistorySetIndex = {
      recordedAt: new Date().toISOString(),
      commit: gitCommit(),
      temporalCli: VERSIONS.temporalCli,
      histories: recorded,
    };
    writeFileSync(join(outDir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
    log(`${recorded.length} histories written to ${relative(process.cwd(), outDir) || '.'}`);
    const types = new Set(recorded.map((r) => r.workflowType));
    const missing = Object.keys(registered).filter((t) => !types.has(t));
    if (missing.length > 0) {
      console.error(
        `no history of ${missing.join(', ')}: add a run of each to scripts/record-histories.ts (the replay test requires one)`,
      );
      process.exitCode = 1;
    }
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    await deps.close().catch(() => undefined);
    await native.close();
    await connection.close();
    await down(profile, stackLog, ['temporal', 'kafka']);
    rmSync(runDir, { recursive: true, force: true });
  }
}

await main();
