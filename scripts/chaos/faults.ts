/** Injecting one fault into the running stack, and the process that holds the DuckDB file. */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../devstack/profile.js';
import type { Fault } from './scenarios.js';
import type { Kafka } from 'kafkajs';
import { freezeComponent, startComponent, stopComponent, topicMessages } from './stack.js';
import type { SupervisedWorker } from './worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Another process opening the DuckDB file read-write (as the `duckdb` shell would); resolves once it holds the lock. */
async function holdDuckDbFile(path: string): Promise<() => Promise<void>> {
  const code = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(process.argv[1]);
    await (await db.connect()).run('SELECT 1');
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1 << 30);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, path], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (c) => reject(new Error(`the DuckDB lock holder exited (${c}): ${err.trim()}`)));
  });
  return async () => {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
}

/** See the fault's description in scenarios.ts. */
async function killAfterPublish(deps: {
  worker: SupervisedWorker;
  kafka: Kafka;
  topic: string;
}): Promise<string> {
  const before = await topicMessages(deps.kafka, deps.topic);
  if (before === undefined) throw new Error(`cannot read the size of ${deps.topic}`);
  let kafkaFrozen = false;
  let temporalFrozen = false;
  try {
    freezeComponent('kafka', (kafkaFrozen = true));
    // Polls run every 1.7 s: within 4 s one has started and hangs in its publish.
    await sleep(4000);
    freezeComponent('temporal', (temporalFrozen = true));
    freezeComponent('kafka', (kafkaFrozen = false));
    // The hanging publish completes; the poll's completion waits for Temporal.
    let after = before;
    for (const until = Date.now() + 15_000; after <= before && Date.now() < until; await sleep(200))
      after = (await topicMessages(deps.kafka, deps.topic)) ?? before;
    if (after <= before) return 'no poll published while Kafka was frozen; worker left running';
    // A moment for the whole send to land (the count moves when its first partition does).
    await sleep(1000);
    after = (await topicMessages(deps.kafka, deps.topic)) ?? after;
    await deps.worker.kill({ waitForExit: true });
    return `${after - before} message(s) published, then the worker killed before Temporal heard`;
  } finally {
    if (kafkaFrozen) freezeComponent('kafka', false);
    if (temporalFrozen) freezeComponent('temporal', false);
  }
}

/** Injects the fault; resolves when it is over (an outage's server is serving again). Returns a note for the report. */
export async function inject(
  f: Fault,
  deps: { worker: SupervisedWorker; duckdbPath: string; kafka: Kafka; topic: string },
): Promise<string> {
  switch (f.kind) {
    case 'kill': {
      if (!f.inPublish) return (await deps.worker.kill()) ? 'worker killed' : 'no worker was running';
      freezeComponent('kafka', true);
      try {
        // Polls run every 1.7 s: within 4 s one has started and hangs in its publish.
        await sleep(4000);
        return (await deps.worker.kill({ waitForExit: true }))
          ? 'worker killed while a poll hung in its publish'
          : 'no worker was running';
      } finally {
        freezeComponent('kafka', false);
      }
    }
    case 'kill-after-publish':
      return killAfterPublish(deps);
    case 'outage': {
      const t0 = Date.now();
      await stopComponent(f.component);
      await sleep(f.seconds * 1000);
      const up = await startComponent(f.component);
      return `${f.component} down ${((Date.now() - t0) / 1000).toFixed(0)} s (restart took ${up.toFixed(0)} s)`;
    }
    case 'restart-temporal': {
      const t0 = Date.now();
      await stopComponent('temporal');
      await startComponent('temporal');
      return `Temporal down ${((Date.now() - t0) / 1000).toFixed(0)} s`;
    }
    case 'warehouse-locked': {
      await deps.worker.kill({ waitForExit: true, restart: false });
      const release = await holdDuckDbFile(deps.duckdbPath);
      const crashes = deps.worker.crashes;
      deps.worker.start();
      await sleep(f.seconds * 1000);
      await release();
      return `DuckDB locked ${f.seconds} s; ${deps.worker.crashes - crashes} worker start(s) failed meanwhile`;
    }
  }
}
