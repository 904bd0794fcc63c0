/**
 * Watching runs through the Temporal client: which activities a run (and its child runs) has in
 * flight, waiting for one to start (a kill point), and waiting for the result with a deadline.
 */
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';

const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface InFlight {
  workflowId: string;
  activityId: string;
  type: string;
  attempt: number;
  started: boolean;
}

/** Activities in flight in a run and, recursively, in its running child runs. */
export async function inFlight(client: Client, workflowId: string): Promise<InFlight[]> {
  const d = await client.workflow.getHandle(workflowId).describe();
  const own = (d.raw.pendingActivities ?? []).map((p) => ({
    workflowId,
    activityId: p.activityId ?? '',
    type: p.activityType?.name ?? '',
    attempt: p.attempt ?? 1,
    started: p.state === STARTED,
  }));
  const children = await Promise.all(
    (d.raw.pendingChildren ?? []).map((c) => inFlight(client, c.workflowId ?? '').catch(() => [])),
  );
  return [...own, ...children.flat()];
}

export interface ActivityMatch {
  type: string;
  /** Only attempts from this one on (2 = a retry, e.g. after an earlier kill). */
  minAttempt?: number;
  /**
   * Fire at the n-th started attempt of this type seen (default 1). Activities of a few
   * milliseconds can be missed between two polls, so use this for longer ones (builds, loads).
   */
  occurrence?: number;
  /** Only this many seconds after the run started (e.g. mid-session). */
  afterSeconds?: number;
}

/**
 * Polls the runs every 100 ms until an activity matching `match` is running on a worker; resolves
 * with what is in flight then, or undefined when `stop()` says to give up (the run finished, or
 * its deadline passed). Errors while Temporal is unreachable are retried.
 */
export async function waitForActivity(
  client: Client,
  workflowIds: string[],
  match: ActivityMatch & { runStartedAt: number },
  stop: () => boolean,
): Promise<InFlight[] | undefined> {
  const seen = new Set<string>();
  const from = match.runStartedAt + (match.afterSeconds ?? 0) * 1000;
  while (!stop()) {
    if (Date.now() < from) {
      await sleep(100);
      continue;
    }
    try {
      const now = (await Promise.all(workflowIds.map((id) => inFlight(client, id)))).flat();
      for (const a of now) {
        if (a.type === match.type && a.started && a.attempt >= (match.minAttempt ?? 1))
          seen.add(`${a.workflowId}/${a.activityId}/${a.attempt}`);
      }
      if (seen.size >= (match.occurrence ?? 1)) return now;
    } catch {
      /* Temporal restarting, or the run not visible yet */
    }
    await sleep(100);
  }
  return undefined;
}

export type RunEnd =
  | { status: 'completed'; at: number; result: unknown }
  | { status: 'failed'; at: number; error: string }
  | { status: 'stuck'; at: number };

/** The innermost cause of a failed run, for the report. */
function causeOf(e: WorkflowFailedError): string {
  let c: unknown = e.cause;
  let msg = e.message;
  while (c instanceof Error) {
    msg = c.message;
    c = (c as { cause?: unknown }).cause;
  }
  return msg;
}

/**
 * Waits for the run's result until `deadline()` (epoch ms; faults push it back). A connection
 * error (Temporal restarting) is retried; the run's own failure is returned, not thrown.
 */
export async function awaitRun(handle: WorkflowHandle, deadline: () => number): Promise<RunEnd> {
  while (Date.now() < deadline()) {
    const result = handle.result().then(
      (value: unknown) => ({ kind: 'ok' as const, value }),
      (error: unknown) => ({ kind: 'error' as const, error }),
    );
    let r: Awaited<typeof result> | undefined;
    while (!r && Date.now() < deadline()) {
      r = await Promise.race([result, sleep(1000).then(() => undefined)]);
    }
    if (!r) break;
    if (r.kind === 'ok') return { status: 'completed', at: Date.now(), result: r.value };
    if (r.error instanceof WorkflowFailedError)
      return { status: 'failed', at: Date.now(), error: causeOf(r.error) };
    await sleep(1000);
  }
  return { status: 'stuck', at: Date.now() };
}

/** Ends a run that missed its deadline, so the next scenario starts clean (not a fault of its own). */
export async function terminateQuietly(handle: WorkflowHandle, reason: string): Promise<void> {
  await handle.terminate(reason).catch(() => undefined);
}
