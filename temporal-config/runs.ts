import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';

/** A run named by its business key (see workflow-ids.ts). */
export interface RunRequest {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  searchAttributes?: SearchAttributePair[];
  /** One line for the Web UI's run list and timeline. */
  summary?: string;
}

/**
 * - started: no run of this key existed (or the last one failed, was cancelled or terminated)
 * - attached: a run of this key is under way; the caller follows it instead of starting another
 * - completed: this key already ran to completion; nothing was started
 */
export type StartOutcome = 'started' | 'attached' | 'completed';

export interface StartedRun {
  handle: WorkflowHandle;
  outcome: StartOutcome;
}

/**
 * Starts the run of a business key, or finds it: a run in progress is joined (never a second one
 * beside it), a failed one is started again, and a completed one is left alone unless `rerun`.
 */
export async function startOrAttach(
  client: Client,
  req: RunRequest,
  opts: { rerun?: boolean } = {},
): Promise<StartedRun> {
  const existing = client.workflow.getHandle(req.workflowId);
  if ((await statusOf(existing)) === 'RUNNING') return { handle: existing, outcome: 'attached' };
  try {
    const handle = await client.workflow.start(req.workflowType, {
      workflowId: req.workflowId,
      taskQueue: req.taskQueue,
      args: req.args,
      // Of two starts at the same moment one wins; the other lands below and follows it.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: opts.rerun
        ? WorkflowIdReusePolicy.ALLOW_DUPLICATE
        : WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: req.searchAttributes,
      ...(req.summary ? { staticSummary: req.summary } : {}),
    });
    return { handle, outcome: 'started' };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const status = await statusOf(existing);
    return { handle: existing, outcome: status === 'RUNNING' ? 'attached' : 'completed' };
  }
}

async function statusOf(h: WorkflowHandle): Promise<string | undefined> {
  try {
    return (await h.describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}
