import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { expect, test } from 'vitest';
import { failureChain } from '../../cli/failures.js';
import { runLoad, WarehouseHeldError, type LoadRun } from '../../cli/load.js';
import { formatDailyBatch } from '../../cli/run.js';
import { formatBatchProgress, readBatchRun } from '../../cli/run-progress.js';
import {
  directOrThroughPipeline,
  loadThroughPipeline,
  NoWayToRunError,
  type PipelineLoad,
} from '../../cli/through-pipeline.js';
import { runTransforms, runTransformsThroughPipeline } from '../../cli/transforms.js';
import type { AppConfig } from '../../lib/config.js';
import { getText } from '../../lib/lake/types.js';
import { openObjectStore } from '../../lib/adapters.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { usePipelineWorkerProcess } from '../support/pipeline-worker.js';

// A running stack: its worker, in another process, holds the DuckDB file.
const stack = usePipelineWorkerProcess('running-stack');
const businessDate = '2026-01-14';

/** A folder of files as someone has them: prices of two vendors' layouts, a company list, a file that is not a price file. */
function history(): string {
  const dir = mkdtempSync(join(tmpdir(), 'egx-history-'));
  mkdirSync(join(dir, 'yahoo'));
  mkdirSync(join(dir, 'companies'));
  writeFileSync(
    join(dir, 'yahoo', 'COMI.csv'),
    'Date,Open,High,Low,Close,Adj Close,Volume\n' +
      '2026-01-11,80,82,79,81,81,1000\n2026-01-12,81,83,80,82,82,1100\n2026-01-13,82,84,81,83.5,83.5,1200\n',
  );
  writeFileSync(
    join(dir, 'ETEL.csv'),
    'date,open,high,low,close,volume\n2026-01-12,35,36,34,35.5,500\n2026-01-13,35.5,36,35,35.8,600\n',
  );
  writeFileSync(
    join(dir, 'companies', 'list.csv'),
    'Ticker,Company Name,Sector\nCOMI,CIB,Banks\nETEL,Telecom Egypt,Telecom\n',
  );
  writeFileSync(join(dir, 'NOTES.csv'), 'these are my notes\nnothing to load here\n');
  return dir;
}

test('while a worker holds the warehouse, egx load uploads the files and runs the daily batch on it; egx transforms runs there too; both say what to do when neither way works', async () => {
  const dir = history();
  const { config, taskQueue, client } = stack;

  // Directly, the file cannot be opened: the error names the holder.
  const held = await runLoad(config, dir, {}).catch((e: unknown) => e);
  expect(held).toBeInstanceOf(WarehouseHeldError);
  expect((held as Error).message).toMatch(
    new RegExp(`^the warehouse .*egx\\.duckdb is held by another process \\(node ${stack.pid()}\\)`),
  );

  // So `egx load` hands the files to the running pipeline.
  const lines: string[] = [];
  const load = await directOrThroughPipeline<LoadRun | PipelineLoad>({
    command: 'egx load',
    config,
    settingsGiven: true,
    taskQueue,
    log: (l) => lines.push(l),
    direct: (c) => runLoad(c, dir, {}),
    viaPipeline: (c) =>
      loadThroughPipeline(c, dir, { date: businessDate, taskQueue, log: (l) => lines.push(l) }),
  });
  if (!('upload' in load)) throw new Error('loaded directly although the file is held');
  expect(lines[0]).toMatch(
    /^egx load: the warehouse .* is held by another process .*; handing the work to the running pipeline$/,
  );
  expect(lines[1]).toBe(
    `uploaded 4 files (0.0 MB) to s3://${config.s3.bucket}: 3 under batch/prices/, 1 under batch/companies/`,
  );
  expect(load.upload.files.map((f) => `${f.from} → ${f.key}`)).toEqual([
    'ETEL.csv → batch/prices/ETEL.csv',
    'NOTES.csv → batch/prices/NOTES.csv',
    'companies/list.csv → batch/companies/list.csv',
    'yahoo/COMI.csv → batch/prices/yahoo/COMI.csv',
  ]);
  const lake = await openObjectStore(config);
  expect(await getText(lake, 'batch/prices/yahoo/COMI.csv')).toContain('2026-01-13,82,84,81,83.5');
  // The same summary as a direct load, and the daily batch's own; the unreadable file is named with its reason.
  expect(load.summary).toMatchObject({
    files: 4,
    filesLoaded: 3,
    filesFailed: 1,
    rowsLoaded: 7,
    rowsQuarantined: 0,
  });
  expect(load.run).toMatchObject({ outcome: 'started', files: { loaded: 3, unreadable: 1 } });
  expect(load.run.quality.every((q) => q.passed)).toBe(true);
  const summary = formatDailyBatch(load.run);
  expect(summary).toMatch(/^ {2}unreadable batch\/prices\/NOTES\.csv: .+$/m);
  expect(summary).toMatch(/^transforms: \d+ models built/m);
  // What a person watching saw: the run's files and rows, read from its history.
  const view = await readBatchRun(client, load.run.workflowId);
  expect(view).toMatchObject({ step: 'done', listed: 4 });
  expect(formatBatchProgress(view)).toBe('done: files 4/4, rows 7 loaded, 0 quarantined');

  // `egx transforms test` while the file is held: the transforms workflow on the same worker.
  const tlines: string[] = [];
  const transforms = await directOrThroughPipeline({
    command: 'egx transforms test',
    config,
    settingsGiven: true,
    taskQueue,
    log: (l) => tlines.push(l),
    direct: (c) => runTransforms(c, { action: 'test', businessDate, log: (l) => tlines.push(l) }),
    viaPipeline: (c) =>
      runTransformsThroughPipeline(c, {
        action: 'test',
        businessDate,
        taskQueue,
        log: (l) => tlines.push(l),
      }),
  });
  expect(tlines[0]).toMatch(/^egx transforms test: the warehouse .* is held by another process/);
  expect(tlines).toContainEqual(expect.stringMatching(/^tests: \d+ passed, \d+ warned, 0 failed$/));
  expect(transforms.failed).toEqual([]);

  // A selection naming no model is refused before anything starts ...
  await expect(
    runTransformsThroughPipeline(config, {
      action: 'run',
      select: ['nope'],
      businessDate,
      taskQueue,
      log: () => {},
    }),
  ).rejects.toThrow('--select nope: no model named nope');
  // ... and a run another client starts with it fails in seconds, not after its retries, saying why.
  const started = Date.now();
  const failed = await client.workflow
    .execute('transformsWorkflow', {
      taskQueue,
      workflowId: `${config.temporal.idPrefix}bad-select`,
      args: [{ businessDate, select: ['nope'] }],
    })
    .catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(WorkflowFailedError);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(failureChain(failed)).toEqual([
    'workflow failed',
    'activity planTransforms failed',
    'UnknownModel: --select nope: no model named nope',
  ]);

  // Neither way: nobody polls the queue, or Temporal does not answer; the message says what to do.
  const neither = (c: AppConfig, queue: string) =>
    directOrThroughPipeline({
      command: 'egx load',
      config: c,
      settingsGiven: true,
      taskQueue: queue,
      log: () => {},
      direct: (cc) => runLoad(cc, dir, {}),
      viaPipeline: () => Promise.reject(new Error('not reached')),
    });
  const nobody = await neither(config, 'nobody-polls-this').catch((e: unknown) => e);
  expect(nobody).toBeInstanceOf(NoWayToRunError);
  expect((nobody as Error).message).toContain(
    'and the running pipeline cannot take the work instead: no worker polls task queue "nobody-polls-this" on Temporal at',
  );
  expect((nobody as Error).message).toContain(`stop the process holding the file (kill ${stack.pid()})`);
  const down = await neither(
    { ...config, temporal: { ...config.temporal, address: '127.0.0.1:1' } },
    taskQueue,
  ).catch((e: unknown) => e);
  expect((down as Error).message).toMatch(
    /cannot take the work instead: Temporal at 127\.0\.0\.1:1 does not answer/,
  );

  // Once the worker has stopped, the rows are in its gold tables, and egx load works directly again.
  await stack.stop();
  const wh = await openDuckDbWarehouse(config.warehouse.duckdbPath);
  try {
    const gold = await wh.query<{ SYMBOL: string; N: number }>(
      'SELECT symbol AS SYMBOL, COUNT(*) AS N FROM GOLD.gold_fct_stock_daily_prices GROUP BY symbol ORDER BY symbol',
    );
    expect(gold.map((r) => [r.SYMBOL, Number(r.N)])).toEqual([
      ['COMI', 3],
      ['ETEL', 2],
    ]);
  } finally {
    await wh.close();
  }
  const direct = await runLoad(config, dir, {});
  expect(direct.summary).toMatchObject({ files: 4, filesLoaded: 3, filesFailed: 1 });
});
