/**
 * The main job on the embedded defaults: bring the local stack up, start the pipeline and stream
 * workers, run the health workflow, apply the schedules, start the sink consumer, seed a synthetic
 * history into an empty store, run one daily batch with transforms, start a market session (a
 * compressed demo replay when the market is closed), print where to watch it all and a summary,
 * and keep everything running until Ctrl-C; then stop the workers and every server.
 */
import { Command, InvalidArgumentError } from 'commander';
import { runHealth } from '../cli/health.js';
import { loadConfig } from '../lib/config.js';
import { allHealthy, formatReport } from '../lib/health/report.js';
import { applyPipelineSchedules } from '../cli/schedules.js';
import { firstRun } from '../cli/first-run.js';
import { startDashboard } from '../cli/dashboard.js';
import { startStreamConsumer } from '../cli/stream.js';
import {
  connectWorker,
  createPipelineWorker,
  createStreamWorker,
  openWorkerDeps,
} from '../workers/pipeline-worker.js';
import { installRuntime } from '../workers/runtime.js';
import { StackError } from './devstack/errors.js';
import { getProfile, stackEnv } from './devstack/profile.js';
import { down, install, up } from './devstack/stack.js';

const opts = new Command('dev')
  .option('--keep-stack', 'leave the servers running on exit')
  .option('--profile <name>', 'stack profile', 'dev')
  .option(
    '--demo-speed <n>',
    'market minutes per real minute of a demo session',
    (v) => {
      const n = Number(v);
      if (!(n >= 1)) throw new InvalidArgumentError('a number >= 1, e.g. 60 (4 h 30 in 4.5 min)');
      return n;
    },
    60,
  )
  .parse()
  .opts<{ keepStack?: boolean; profile: string; demoSpeed: number }>();

const profile = getProfile(opts.profile);
const log = (line: string) => console.log(`[stack] ${line}`);
let stopping = false;

async function stopStack(): Promise<void> {
  if (opts.keepStack) return console.log('[stack] left running (npm run stack -- down stops it)');
  await down(profile, log);
}

async function main(): Promise<void> {
  await install(profile, log);
  await up(profile, log);
  Object.assign(process.env, stackEnv(profile));
  const config = loadConfig();

  installRuntime(config, { minLevel: process.env.LOG_LEVEL ? undefined : 'WARN' });
  const connection = await connectWorker(config);
  const deps = await openWorkerDeps(config);
  const workers = [
    await createPipelineWorker(config, connection, {}, deps),
    await createStreamWorker(config, connection, {}, deps),
  ];
  const running = Promise.all(workers.map((w) => w.run()));
  for (const w of workers)
    console.log(`[worker] polling task queue "${w.options.taskQueue}" on ${config.temporal.address}`);

  const shutdown = () => {
    if (stopping) return console.log('still stopping; the servers are shut down next…');
    stopping = true;
    console.log('\nstopping workers…');
    for (const w of workers) w.shutdown();
  };
  // Handlers stay installed: a second Ctrl-C must not abandon the servers half-way.
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  const health = await runHealth(config, { waitForWorkerMs: 15_000 });
  console.log(`\n${formatReport(health.results)}\n(${health.note})`);
  console.log(
    allHealthy(health.results) ? '\nall components healthy' : '\nsome components are DOWN (see above)',
  );
  for (const r of await applyPipelineSchedules(config)) console.log(`[schedules] ${r.outcome} ${r.id}`);
  if (config.bus === 'kafka') {
    const consumer = await startStreamConsumer(config);
    console.log(`[stream] sink consumer running: ${consumer.url}`);
  }
  console.log(`\nTemporal Web UI: ${config.temporal.uiUrl}  (workflows, activities and their retries)`);
  // In this process: DuckDB lets one process hold the warehouse file, and the workers hold it.
  const dashboard = await startDashboard(config, { warehouse: deps.warehouse, log: console.log }).catch(
    (e: unknown) =>
      void console.error(`[dashboard] not started: ${e instanceof Error ? e.message : String(e)}`),
  );
  if (dashboard)
    console.log(`Dashboard: ${dashboard.url}  (tracked symbols, charts, market and pipeline status)`);
  console.log('');

  const first = await firstRun(config, deps, { demoSpeed: opts.demoSpeed, log: console.log });
  first.demoDone
    .then((s) => s && console.log('\nThe schedules take over from here (egx schedules list).'))
    .catch((e: unknown) => console.error('[market] demo follow-up failed:', e));
  console.log(
    `\nRunning: workers on ${workers.map((w) => w.options.taskQueue).join(', ')}; schedules applied; ` +
      `${first.session.mode === 'demo' ? 'demo' : 'live'} market session ${first.session.workflowId}.`,
  );
  console.log(
    `Temporal Web UI: ${config.temporal.uiUrl}${dashboard ? `; dashboard: ${dashboard.url}` : ''}. Press Ctrl-C to stop the workers and the servers.`,
  );

  try {
    await running;
  } finally {
    await dashboard?.close();
    await deps.close();
    await connection.close();
    await stopStack();
  }
}

main().catch(async (e: unknown) => {
  if (e instanceof StackError) {
    console.error(`dev: ${e.message}`);
    if (e.hint) console.error(`  → ${e.hint}`);
  } else {
    console.error('dev:', e);
  }
  await stopStack().catch(() => {});
  process.exit(1);
});
