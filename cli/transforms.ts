import { fileURLToPath } from 'node:url';
import type { AppConfig } from '../lib/config.js';
import { openObjectStore } from '../lib/adapters.js';
import { buildModel, testModel, type TestResult } from '../lib/transforms/build.js';
import { publishDocs } from '../lib/transforms/docs.js';
import { loadProject, planRun } from '../lib/transforms/project.js';
import { withClient } from '../temporal-config/connection.js';
import { startOrAttach, type StartOutcome } from '../temporal-config/runs.js';
import { SA } from '../temporal-config/search-attributes.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { workflowIds } from '../temporal-config/workflow-ids.js';
import type { TransformsInput, TransformsOutput } from '../workflows/transforms.js';
import { explainRunFailure } from './failures.js';
import { openWarehouseOrSayWhoHoldsIt } from './load.js';
import { readTransformsRun, watchRun } from './run-progress.js';
import { runUrl } from './run.js';

const TRANSFORMS_DIR = fileURLToPath(new URL('../transforms', import.meta.url));

/**
 * Builds and/or tests the selected models directly against the configured warehouse (no
 * Temporal). Throws WarehouseHeldError when a running worker holds the DuckDB file.
 */
export async function runTransforms(
  config: AppConfig,
  opts: {
    action: 'run' | 'test' | 'docs';
    select?: string[];
    businessDate: string;
    fullRefresh?: boolean;
    log: (line: string) => void;
  },
): Promise<{ failed: TestResult[] }> {
  const project = await loadProject(TRANSFORMS_DIR);
  const models = planRun(project, opts.select);
  const wh = await openWarehouseOrSayWhoHoldsIt(config);
  const runId = `transforms-cli-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const failed: TestResult[] = [];
  const audited = new Map<string, TestResult[] | undefined>();
  try {
    if (opts.action === 'docs') {
      const out = await publishDocs(project, wh, {
        store: await openObjectStore(config),
        localDir: config.docsDir,
      });
      opts.log(`docs for ${out.models} models: ${out.keys.join(', ')} and ${config.docsDir}/index.html`);
      return { failed };
    }
    if (opts.action === 'run') {
      for (const m of models) {
        const r = await buildModel(wh, project, m, {
          runId,
          businessDate: opts.businessDate,
          fullRefresh: opts.fullRefresh,
        });
        audited.set(m.name, r.audited);
        opts.log(
          `built ${m.schema}.${m.name} (${r.materialized}): ${r.rows} rows in ${r.seconds.toFixed(2)} s`,
        );
      }
    }
    for (const m of models) {
      const results = await testModel(wh, project, m, {
        runId,
        businessDate: opts.businessDate,
        audited: audited.get(m.name),
      });
      for (const t of results) {
        if (t.status !== 'pass')
          opts.log(`${t.status.toUpperCase()} ${m.name}: ${t.test}: ${t.failingRows} rows, e.g. ${t.sample}`);
        if (t.status === 'fail') failed.push(t);
      }
      opts.log(`tested ${m.name}`);
    }
  } finally {
    await wh.close();
  }
  return { failed };
}

export type TransformsAction = 'run' | 'test' | 'docs';

/**
 * Runs the transforms workflow of `businessDate` under the ID `transforms-<date>-manual` (again if
 * it ran before; a run of that ID under way is followed) on a running worker, printing what it
 * built and tested. The selection is checked against the models here first, so a wrong name fails
 * before anything starts. The workflow builds, tests and writes the docs; `action` tells it when
 * only the tests or the docs are wanted (a workflow that does not know the field does all three).
 */
export async function runTransformsThroughPipeline(
  config: AppConfig,
  opts: {
    action: TransformsAction;
    select?: string[];
    businessDate: string;
    fullRefresh?: boolean;
    taskQueue?: string;
    log: (line: string) => void;
    onStarted?: (workflowId: string, url: string, outcome: StartOutcome) => void;
    onProgress?: (line: string) => void;
  },
): Promise<{ failed: TestResult[]; output: TransformsOutput }> {
  planRun(await loadProject(TRANSFORMS_DIR), opts.select);
  return withClient(config, async (client) => {
    const workflowId = config.temporal.idPrefix + workflowIds.transforms(opts.businessDate, 'manual');
    const url = runUrl(config, workflowId);
    const { handle, outcome } = await startOrAttach(
      client,
      {
        workflowType: 'transformsWorkflow',
        workflowId,
        taskQueue: opts.taskQueue ?? TASK_QUEUES.pipeline,
        args: [
          {
            businessDate: opts.businessDate,
            select: opts.select,
            fullRefresh: opts.fullRefresh,
            action: opts.action,
          } satisfies TransformsInput & { action: TransformsAction },
        ],
        searchAttributes: [
          { key: SA.pipeline, value: 'transforms' },
          { key: SA.businessDate, value: opts.businessDate },
        ],
        summary: `transforms ${opts.businessDate} (manual: egx transforms ${opts.action})`,
      },
      { rerun: true },
    );
    opts.onStarted?.(workflowId, url, outcome);
    const result = handle.result() as Promise<TransformsOutput>;
    if (opts.onProgress) {
      const progress = opts.onProgress;
      await watchRun(
        result,
        () => readTransformsRun(client, workflowId),
        (v) =>
          progress(
            `transforms: ${v.built}/${v.planned ?? '?'} models built, ${v.tested}/${v.planned ?? '?'} tested${v.docs ? ', docs written' : ''}`,
          ),
      );
    }
    let output: TransformsOutput;
    try {
      output = await result;
    } catch (e) {
      return explainRunFailure(`transforms ${workflowId}`, url, e);
    }
    for (const b of output.built)
      opts.log(`built ${b.model} (${b.materialized}): ${b.rows} rows in ${b.seconds.toFixed(2)} s`);
    opts.log(
      `tests: ${output.tests.passed} passed, ${output.tests.warned} warned, ${output.tests.failed} failed`,
    );
    for (const w of output.warnings) opts.log(`WARN ${w}`);
    opts.log(`docs for ${output.docs.models} models: ${output.docs.keys.join(', ')}`);
    return { failed: [], output };
  });
}
