import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  ContinueAsNew,
  isCancellation,
  log,
  proxyActivities,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { AlertActivities, AlertInput } from '../activities/alerts.js';

const act = proxyActivities<AlertActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

/** The innermost cause of a failure: its type, message, and the activity or child run it came from. */
export function rootCause(err: unknown): { type: string; message: string; where: string[] } {
  const where: string[] = [];
  let e: unknown = err;
  for (;;) {
    if (e instanceof ActivityFailure) where.push(`activity ${e.activityType}`);
    else if (e instanceof ChildWorkflowFailure) where.push(`child ${e.execution.workflowId}`);
    else break;
    e = e.cause;
  }
  if (e instanceof ApplicationFailure) return { type: e.type ?? 'Error', message: e.message, where };
  return {
    type: e instanceof Error ? e.name : 'Error',
    message: e instanceof Error ? e.message : String(e),
    where,
  };
}

/** Sends an alert from workflow code; a failure to send is logged, never thrown over the real problem. */
export async function alert(input: Omit<AlertInput, 'workflowId' | 'runId'>): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  try {
    await act.sendAlert({ ...input, workflowId, runId });
  } catch (e) {
    log.error('could not send an alert', { title: input.title, error: (e as Error).message });
  }
}

/**
 * What a workflow throws to fail: Temporal failures as they are, anything else (a plain Error, a
 * bug) as a non-retryable ApplicationFailure of type `UnexpectedError`. A plain Error thrown from
 * workflow code would not fail the run: its workflow task would be retried for ever.
 */
export function asWorkflowFailure(err: unknown): unknown {
  if (err instanceof TemporalFailure || err instanceof ContinueAsNew) return err;
  const e = err instanceof Error ? err : new ApplicationFailure(String(err));
  return ApplicationFailure.create({
    type: 'UnexpectedError',
    nonRetryable: true,
    message: `${e.name}: ${e.message}`,
    cause: e,
  });
}

/** Runs a workflow body so that whatever it throws fails the run with a typed failure (no alert). */
export async function failTyped<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (thrown) {
    throw asWorkflowFailure(thrown);
  }
}

/**
 * Runs a pipeline run; when it fails, the run ends Failed with a typed ApplicationFailure and, for
 * a top-level run, one alert says what failed, where (activity or child run), the error and a
 * link. Cancellation and continue-as-new are not failures; child runs leave the alert to their
 * parent, which names them.
 */
export async function alertOnFailure<T>(
  pipeline: string,
  label: string | undefined,
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (thrown) {
    const err = asWorkflowFailure(thrown);
    if (isCancellation(err) || err instanceof ContinueAsNew || workflowInfo().parent) throw err;
    const cause = rootCause(err);
    await alert({
      title: `${pipeline}${label ? ` ${label}` : ''} failed`,
      where: [`workflow ${workflowInfo().workflowId}`, ...cause.where].join(', '),
      error: cause.message,
      key: `${pipeline}:failed:${cause.type}`,
    });
    throw err;
  }
}
