import { ApplicationFailure } from '@temporalio/common';
import { ModelAuditFailedError } from '../lib/transforms/build.js';
import { loadProject, ModelDefinitionError } from '../lib/transforms/project.js';
import {
  oneAtATime,
  refreshLiveGold,
  type LiveRefreshInput,
  type LiveRefreshResult,
} from '../lib/stream/live-gold.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { heartbeating } from './heartbeat.js';

export type { LiveRefreshInput, LiveRefreshResult };

/**
 * The market session's intraday gold: one activity per refresh, after each poll. Refreshes run one
 * at a time in a worker process, so two sessions (a live day and a demo) never merge into the live
 * marts at once.
 */
export function createLiveActivities(deps: { warehouse: Warehouse; projectDir: string }) {
  const serial = oneAtATime();
  return {
    /** Waits for the poll's bars to be committed, then refreshes the live marts incrementally. */
    async refreshIntradayGold(input: LiveRefreshInput): Promise<LiveRefreshResult> {
      const project = await loadProject(deps.projectDir).catch((e: unknown) => {
        if (e instanceof ModelDefinitionError)
          throw ApplicationFailure.nonRetryable(e.message, 'ModelDefinitionInvalid');
        throw e;
      });
      let step = 'queued';
      try {
        return await heartbeating(
          (signal) =>
            serial(() =>
              refreshLiveGold(deps.warehouse, project, input, { signal, onProgress: (s) => (step = s) }),
            ),
          { details: () => ({ step }) },
        );
      } catch (e) {
        // The data must change before the same audit passes: no retry waits for that.
        if (e instanceof ModelAuditFailedError)
          throw ApplicationFailure.nonRetryable(e.message, 'ModelAuditFailed', e.failures);
        throw e;
      }
    },
  };
}

export type LiveActivities = ReturnType<typeof createLiveActivities>;
