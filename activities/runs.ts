import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startOrAttach, type RunRequest, type StartOutcome } from '../temporal-config/runs.js';
import { workflowIds } from '../temporal-config/workflow-ids.js';
import type { AppConfig } from '../lib/config.js';

export interface LockRequester {
  workflowId: string;
  runId: string;
}

/** Names a warehouse for its lock: `duckdb-<hash of the file's path>` or `snowflake-<account>-<database>`. */
export function warehouseKey(w: AppConfig['warehouse']): string {
  if (w.kind === 'snowflake' && w.snowflake)
    return `snowflake-${w.snowflake.account}-${w.snowflake.database}`.toLowerCase();
  return `duckdb-${createHash('sha256').update(resolve(w.duckdbPath)).digest('hex').slice(0, 12)}`;
}

/**
 * Activities that start or watch other runs through the worker's client: the schedules' launcher
 * and the per-warehouse lock. `warehouseKey` names the warehouse (one lock per warehouse).
 */
export function createRunActivities(deps: { warehouseKey: string; taskQueue: string }) {
  return {
    /** Starts the run of a business key or attaches to it, and waits for its end, heartbeating. */
    async followRun(input: { request: RunRequest }): Promise<{ workflowId: string; outcome: StartOutcome }> {
      const ctx = Context.current();
      const { handle, outcome } = await startOrAttach(ctx.client, input.request);
      const beat = setInterval(() => ctx.heartbeat({ workflowId: handle.workflowId, outcome }), 10_000);
      try {
        await Promise.race([handle.result(), ctx.cancelled]);
        return { workflowId: handle.workflowId, outcome };
      } catch (e) {
        if (e instanceof WorkflowFailedError) {
          const cause = e.cause instanceof Error ? e.cause.message : 'no cause given';
          throw ApplicationFailure.nonRetryable(`${handle.workflowId} failed: ${cause}`, 'RunFailed');
        }
        throw e;
      } finally {
        clearInterval(beat);
      }
    },

    /** Asks for this warehouse's lock (starting the lock's workflow if it is not running); returns the lock's workflow ID. */
    async requestWarehouseLock(input: { requester: LockRequester }): Promise<{ lockId: string }> {
      const lockId = workflowIds.warehouseLock(deps.warehouseKey);
      await Context.current().client.workflow.signalWithStart('warehouseLockWorkflow', {
        workflowId: lockId,
        taskQueue: deps.taskQueue,
        args: [{ warehouse: deps.warehouseKey }],
        signal: 'acquire',
        signalArgs: [input.requester],
        staticSummary: `one writer at a time on warehouse ${deps.warehouseKey}`,
      });
      return { lockId };
    },

    /** Is this run still going? (A lock held by a run that ended without releasing it is freed.) */
    async isRunOpen(input: LockRequester): Promise<boolean> {
      try {
        const d = await Context.current().client.workflow.getHandle(input.workflowId, input.runId).describe();
        return d.status.name === 'RUNNING';
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) return false;
        throw e;
      }
    },
  };
}

export type RunActivities = ReturnType<typeof createRunActivities>;
