import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  buildModel,
  ModelAuditFailedError,
  testModel,
  type ModelBuildResult,
  type TestResult,
} from '../lib/transforms/build.js';
import { egxCalendar } from '../lib/market/calendar.js';
import { heartbeating } from './heartbeat.js';
import { activityMetrics } from './metrics.js';
import { checkStreamingFreshness, type StreamingFreshness } from '../lib/quality/streaming-freshness.js';
import { publishDocs } from '../lib/transforms/docs.js';
import { loadProject, ModelDefinitionError, planRun } from '../lib/transforms/project.js';
import type { ObjectStore } from '../lib/lake/types.js';
import type { Warehouse } from '../lib/warehouse/types.js';

export interface TransformDeps {
  warehouse: Warehouse;
  /** Folder with staging/ and marts/. */
  projectDir: string;
  /** Where the docs site goes: `docs/` in the object store, and a local folder. */
  store: ObjectStore;
  docsDir: string;
}

export interface PlannedModel {
  name: string;
  layer: 'staging' | 'marts';
  refs: string[];
}

export function createTransformActivities({ warehouse, projectDir, store, docsDir }: TransformDeps) {
  // A malformed model file stays malformed until someone fixes it: no retry waits for that.
  const project = () =>
    loadProject(projectDir).catch((e: unknown) => {
      if (e instanceof ModelDefinitionError)
        throw ApplicationFailure.create({
          message: e.message,
          type: 'ModelDefinitionInvalid',
          nonRetryable: true,
          cause: e,
        });
      throw e;
    });
  const model = async (name: string) => {
    const p = await project();
    const m = p.models.get(name);
    if (!m) throw ApplicationFailure.nonRetryable(`no model named ${name} in ${projectDir}`, 'UnknownModel');
    return { p, m };
  };
  return {
    /** The models to run, in dependency order, with what each one reads. */
    async planTransforms(input: { select?: string[] }): Promise<PlannedModel[]> {
      const p = await project();
      let planned: ReturnType<typeof planRun>;
      try {
        planned = planRun(p, input.select);
      } catch (e) {
        // Only the selection can be wrong here (the project loaded): the same input fails the same way.
        throw ApplicationFailure.create({
          message: (e as Error).message,
          type: 'UnknownModel',
          nonRetryable: true,
          cause: e as Error,
        });
      }
      return planned.map((m) => ({
        name: m.name,
        layer: m.layer,
        refs: m.refs,
      }));
    },

    /**
     * Builds one model (write-audit-publish), heartbeating; cancelled, it interrupts the running
     * statement. A failed audit is not retried: the data must change first.
     */
    async buildTransformModel(input: {
      model: string;
      runId: string;
      businessDate: string;
      fullRefresh?: boolean;
    }): Promise<ModelBuildResult> {
      const { p, m } = await model(input.model);
      try {
        const r = await heartbeating((signal) => buildModel(warehouse, p, m, { ...input, signal }), {
          details: () => ({ model: m.name }),
        });
        activityMetrics(() => Context.current()).modelSeconds.record(r.seconds, { model: m.name });
        return r;
      } catch (e) {
        if (e instanceof ModelAuditFailedError)
          throw ApplicationFailure.nonRetryable(e.message, 'ModelAuditFailed', e.failures);
        throw e;
      }
    },

    /** Were streamed bars loaded in the `hours` before `asOf` (only checked when the market was open then)? */
    async checkStreamedDataFreshness(input: { asOf: string; hours: number }): Promise<StreamingFreshness> {
      return heartbeating(() =>
        checkStreamingFreshness(warehouse, egxCalendar(), new Date(input.asOf), input.hours),
      );
    },

    /** Regenerates the docs site from the models and the latest build and test results. */
    async generateTransformDocs(): Promise<{ models: number; keys: string[] }> {
      return heartbeating(async () => publishDocs(await project(), warehouse, { store, localDir: docsDir }));
    },

    /** Runs the model's tests (heartbeating, interrupted when cancelled); `audited` are results its build's audit already has for the published version. */
    async testTransformModel(input: {
      model: string;
      runId: string;
      businessDate: string;
      audited?: TestResult[];
    }): Promise<TestResult[]> {
      const { p, m } = await model(input.model);
      const results = await heartbeating((signal) => testModel(warehouse, p, m, { ...input, signal }), {
        details: () => ({ model: m.name }),
      });
      const failures = activityMetrics(() => Context.current()).testFailures;
      for (const severity of ['error', 'warn'] as const)
        failures.add(results.filter((r) => r.status !== 'pass' && r.severity === severity).length, {
          model: m.name,
          severity,
        });
      return results;
    },
  };
}

export type TransformActivities = ReturnType<typeof createTransformActivities>;
