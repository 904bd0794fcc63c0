/**
 * Fault-injection suite: `npm run chaos` (all scenarios) or `npm run chaos:quick` (a short subset).
 *
 *   node --import tsx scripts/chaos/main.ts [--quick] [--only a,b] [--parallel 3] [--keep-stack]
 *
 * Starts the chaos profile's servers afresh, runs each workload once without faults (the
 * reference), then each scenario with its faults, and compares every scenario's final warehouse
 * and object store with its reference. Progress goes to stderr; the table goes to stdout, and its
 * last line is one JSON object. Exits 1 when a run got stuck, data was lost or duplicated, an alert
 * was missing, or a run could not be checked.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { pooled } from '../../lib/util/pool.js';
import { AlertReceiver } from './alerts.js';
import { formatDetails, formatTable, suitePassed, summarize } from './report.js';
import { runScenario, type Reference, type ScenarioResult, type SuiteEnv } from './scenario-run.js';
import { recoveryBudgetMs, SCENARIOS } from './scenarios.js';
import { chaosKafka, connectTemporal, freshStack, profile, stopStack } from './stack.js';

const opts = new Command()
  .option('--quick', 'a short subset (3 faults, a few minutes) for CI')
  .option('--only <names>', 'comma-separated scenario names')
  .option('--parallel <n>', 'scenarios run side by side (those that need the stack alone run after)', '4')
  .option('--keep-stack', 'leave the chaos servers running afterwards')
  .parse()
  .opts<{ quick?: boolean; only?: string; parallel: string; keepStack?: boolean }>();

const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`[chaos +${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

const only = opts.only?.split(',').map((s) => s.trim());
const chosen = SCENARIOS.filter((s) => (only ? only.includes(s.name) : !opts.quick || s.quick));
if (only && chosen.length !== only.length) {
  const known = SCENARIOS.map((s) => s.name).join(', ');
  throw new Error(`unknown scenario in --only ${opts.only} (known: ${known})`);
}

const workRoot = join(profile.runDir, 'scenarios');
mkdirSync(workRoot, { recursive: true });
log(
  `${chosen.length} scenarios; work directory ${workRoot}; servers of the chaos profile (Temporal 127.0.0.1:${profile.ports.temporal})`,
);
await freshStack(
  log,
  chosen.some((s) => s.workload.streams),
);
const alerts = new AlertReceiver();
await alerts.start();
const connection = await connectTemporal();
const env: SuiteEnv = { workRoot, connection, kafka: chaosKafka(), alerts, log };
const results: ScenarioResult[] = [];
const failedReferences: ScenarioResult[] = [];
try {
  // Fault-free references, one per workload, side by side.
  const workloads = [...new Map(chosen.map((s) => [s.workload.name, s.workload])).values()];
  const references = new Map<string, Reference>();
  await Promise.all(
    workloads.map(async (w) => {
      const { result, snapshot } = await runScenario(env, { name: `ref-${w.name}`, workload: w, faults: [] });
      if (result.outcome === 'completed' && snapshot && result.durationMs !== undefined)
        references.set(w.name, { snapshot, durationMs: result.durationMs });
      else failedReferences.push(result);
    }),
  );
  for (const [name, ref] of references)
    log(
      `reference ${name}: ${(ref.durationMs / 1000).toFixed(0)} s, ${Object.values(ref.snapshot.tables).reduce((n, t) => n + t.length, 0)} rows, ${Object.keys(ref.snapshot.objects).length} objects, ${ref.snapshot.bars.length} archived bars`,
    );
  const runnable = chosen.filter((s) => references.has(s.workload.name));
  const serial = new Map<string, Promise<unknown>>();
  const run = async (s: (typeof chosen)[number]) => {
    const before = s.serial ? serial.get(s.serial) : undefined;
    const mine = (async () => {
      await before;
      const { result } = await runScenario(env, s, references.get(s.workload.name));
      results.push(result);
    })();
    if (s.serial) serial.set(s.serial, mine);
    await mine;
  };
  // Longest first (by their recovery budgets), so the pool ends together.
  const budget = (s: (typeof chosen)[number]) => s.faults.reduce((n, f) => n + recoveryBudgetMs(f), 0);
  await pooled(
    runnable.filter((s) => !s.exclusive).sort((a, b) => budget(b) - budget(a)),
    Math.max(1, Number(opts.parallel) || 1),
    run,
  );
  for (const s of runnable.filter((s) => s.exclusive)) await run(s);
} finally {
  await connection.close();
  await alerts.stop();
  if (!opts.keepStack) await stopStack(log);
}

results.sort(
  (a, b) => chosen.findIndex((s) => s.name === a.name) - chosen.findIndex((s) => s.name === b.name),
);
const summary = summarize(results);
const out = [
  formatDetails([...failedReferences, ...results]),
  '',
  formatTable(results),
  '',
  `recovery s: from the first fault to the run's completion; delay s: the run's duration minus the fault-free reference's (same input, same worker start-up).`,
  `total ${((Date.now() - started) / 1000).toFixed(0)} s; logs and data under ${workRoot}`,
];
if (failedReferences.length > 0)
  out.push(
    `reference run(s) failed, so their scenarios were not run: ${failedReferences.map((r) => r.name).join(', ')}`,
  );
out.push(JSON.stringify(summary));
process.stdout.write(out.join('\n') + '\n');
process.exitCode = suitePassed(summary, results) && failedReferences.length === 0 ? 0 : 1;
