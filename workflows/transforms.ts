import {
  ApplicationFailure,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type { TransformActivities } from '../activities/transforms.js';
import type { ModelBuildResult, TestResult } from '../lib/transforms/build.js';
import type { StreamingFreshness } from '../lib/quality/streaming-freshness.js';
import { alert, alertOnFailure } from './alerting.js';
import { businessDateOf, requireBusinessDate, scheduledStart, tagRun } from './business-date.js';
import { inDependencyOrder, pooled } from './concurrency.js';
import { withWarehouseLock } from './warehouse-lock.js';

export interface TransformsInput {
  businessDate?: string;
  /** Model names; `name+` adds everything downstream. Default: all. */
  select?: string[];
  /** Models built at the same time (default 3). */
  maxParallel?: number;
  /** Rebuild incremental models from all their input. */
  fullRefresh?: boolean;
  /** `test`: test the published models without building; `docs`: only write the docs (default `run`: build, test, docs). */
  action?: 'run' | 'test' | 'docs';
  /** The instant the streamed-data freshness check looks back from (default: the schedule's time; unset = not checked). */
  asOf?: string;
}

export interface TransformsOutput {
  businessDate: string;
  built: ModelBuildResult[];
  tests: { passed: number; warned: number; failed: number };
  warnings: string[];
  docs: { models: number; keys: string[] };
  streaming: StreamingFreshness | { status: 'not_checked'; detail: string };
}

const act = proxyActivities<TransformActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

/**
 * The transforms (was Airflow `dbt_scheduled_transformations`, 02:00 and 14:00 Cairo): build the
 * staging then mart models in dependency order (independent ones in parallel, each its own
 * activity), then test every model (each its own activity). A failed error-severity test fails
 * the run naming the model and the test; warnings are reported.
 */
export async function transformsWorkflow(input: TransformsInput = {}): Promise<TransformsOutput> {
  return alertOnFailure('transforms', businessDateOf(input), () => runTransforms(input));
}

async function runTransforms(input: TransformsInput = {}): Promise<TransformsOutput> {
  tagRun('transforms', businessDateOf(input));
  const businessDate = requireBusinessDate(businessDateOf(input), 'business date');
  const asOf = input.asOf ?? scheduledStart()?.toISOString();
  const streaming = asOf
    ? await act.checkStreamedDataFreshness({ asOf, hours: 6 })
    : ({ status: 'not_checked', detail: 'no schedule time or asOf given' } as const);
  // Stale streaming is reported, not fatal: the models still reflect the batch data.
  if (streaming.status === 'stale') {
    log.warn('streamed data is stale', { detail: streaming.detail });
    await alert({
      title: 'streamed market data is stale',
      where: `transforms ${businessDate}, streaming freshness check`,
      error: streaming.detail,
      key: 'streaming:stale',
    });
  }
  // One writer at a time per warehouse: overlapping transforms and maintenance queue for the lock.
  if (patched('warehouse-lock')) return withWarehouseLock(() => buildAndTest(input, businessDate, streaming));
  return buildAndTest(input, businessDate, streaming);
}

async function buildAndTest(
  input: TransformsInput,
  businessDate: string,
  streaming: TransformsOutput['streaming'],
): Promise<TransformsOutput> {
  const runId = workflowInfo().workflowId;
  const models = await act.planTransforms({ select: input.select });
  const limit = input.maxParallel ?? 3;
  const progress = { built: 0, tested: 0 };
  const show = (step: string) =>
    setCurrentDetails(
      `transforms ${businessDate}: ${step}\n\nmodels built ${progress.built}/${models.length}, tested ${progress.tested}/${models.length}`,
    );
  const action = input.action ?? 'run';
  if (action === 'docs') {
    show('docs');
    return {
      businessDate,
      built: [],
      tests: { passed: 0, warned: 0, failed: 0 },
      warnings: [],
      docs: await act.generateTransformDocs(),
      streaming,
    };
  }
  show('building models');
  const built =
    action === 'test'
      ? []
      : await inDependencyOrder(models, limit, async (m) => {
          const r = await act.buildTransformModel.executeWithOptions({ summary: `build ${m.name}` }, [
            { model: m.name, runId, businessDate, fullRefresh: input.fullRefresh },
          ]);
          progress.built++;
          show('building models');
          return r;
        });
  show('testing models');
  const results: TestResult[] = (
    await pooled(models, limit, async (m) => {
      const r = await act.testTransformModel.executeWithOptions({ summary: `test ${m.name}` }, [
        { model: m.name, runId, businessDate, audited: built.find((b) => b.model === m.name)?.audited },
      ]);
      progress.tested++;
      show('testing models');
      return r;
    })
  ).flat();
  // Docs show the latest results, failures included, so they are written before the verdict.
  show('docs');
  const docs = await act.generateTransformDocs();
  const failed = results.filter((r) => r.status === 'fail');
  const warnings = [
    ...(streaming.status === 'stale' ? [`streaming: ${streaming.detail}`] : []),
    ...results.filter((r) => r.status === 'warn').map((r) => `${r.model}: ${r.test} (${r.failingRows} rows)`),
  ];
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: 'DataTestsFailed',
      nonRetryable: true,
      message: `data tests failed: ${failed.map((f) => `${f.model}: ${f.test} (${f.failingRows} failing rows)`).join('; ')}`,
      details: [{ businessDate, results }],
    });
  }
  return {
    businessDate,
    built: built.map(({ audited: _, ...b }) => b),
    tests: {
      passed: results.filter((r) => r.status === 'pass').length,
      warned: results.filter((r) => r.status === 'warn').length,
      failed: 0,
    },
    warnings,
    docs,
    streaming,
  };
}
