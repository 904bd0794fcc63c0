/**
 * What a daily batch or transforms run has done so far, read from its event history (completed
 * activities and their results) and its pending activities (their latest heartbeat), so the CLI can
 * show "files 12/277, rows 48,113" while it runs and name each unreadable file when it is done,
 * without asking the workflow anything.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { FileLoadResult, LoadProgress } from '../lib/ingest/load-file.js';

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

const decode = <T>(p: Payloads): T | undefined => {
  const first = p?.payloads?.[0];
  return first ? defaultPayloadConverter.fromPayload<T>(first) : undefined;
};

/** The activities of one run: those that completed (with their results) and those scheduled, in order. */
export interface RunActivities {
  scheduled: string[];
  completed: { type: string; result: unknown }[];
  /** Child runs started, by workflow ID. */
  children: string[];
  closed: boolean;
}

export async function runActivities(handle: WorkflowHandle): Promise<RunActivities> {
  const { events } = await handle.fetchHistory();
  const typeOf = new Map<string, string>();
  const out: RunActivities = { scheduled: [], completed: [], children: [], closed: false };
  for (const e of events ?? []) {
    const id = String(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const type = scheduled.activityType?.name ?? '?';
      typeOf.set(id, type);
      out.scheduled.push(type);
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const type = typeOf.get(String(done.scheduledEventId)) ?? '?';
      out.completed.push({ type, result: decode(done.result) });
    }
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child?.workflowId) out.children.push(child.workflowId);
    if (
      e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes
    )
      out.closed = true;
  }
  return out;
}

/** The latest heartbeat details of each pending activity of a type. */
async function pendingDetails<T>(handle: WorkflowHandle, type: string): Promise<T[]> {
  const d = await handle.describe();
  return (d.raw.pendingActivities ?? [])
    .filter((a) => a.activityType?.name === type)
    .map((a) => decode<T>(a.heartbeatDetails))
    .filter((x): x is T => x !== undefined);
}

export interface BatchRunView {
  step: 'starting' | 'listing files' | 'loading' | 'quality gate' | 'transforms' | 'cleaning up' | 'done';
  /** Files the run loads (known once it has listed them). */
  listed?: number;
  /** Each file loaded so far, in the order they finished. */
  results: FileLoadResult[];
  /** Loads in flight, from their latest heartbeat. */
  running: LoadProgress[];
  /** While the transforms child runs: models built and planned. */
  models?: { built: number; of?: number };
}

/** Where a daily batch run is: its step, the files listed and loaded (with their results) and the loads in flight. */
export async function readBatchRun(client: Client, workflowId: string): Promise<BatchRunView> {
  const handle = client.workflow.getHandle(workflowId);
  const acts = await runActivities(handle);
  const listing = acts.completed.find((c) => c.type === 'listNewBatchFiles')?.result as
    { keys: string[] } | undefined;
  const results = acts.completed
    .filter((c) => c.type === 'loadBatchFile')
    .map((c) => c.result as FileLoadResult);
  const last = acts.scheduled.filter((t) => t !== 'recordRun' && t !== 'checkKafka').at(-1);
  const view: BatchRunView = {
    step: acts.closed
      ? 'done'
      : last === 'cleanupArtifacts'
        ? 'cleaning up'
        : acts.children.length > 0
          ? 'transforms'
          : last === 'runQualityGate'
            ? 'quality gate'
            : last === 'loadBatchFile'
              ? 'loading'
              : last === 'listNewBatchFiles'
                ? 'listing files'
                : 'starting',
    listed: listing?.keys.length,
    results,
    running: acts.closed ? [] : await pendingDetails<LoadProgress>(handle, 'loadBatchFile').catch(() => []),
  };
  const child = acts.children.find((id) => id.endsWith('-transforms'));
  if (view.step === 'transforms' && child) {
    const t = await runActivities(client.workflow.getHandle(child)).catch(() => undefined);
    if (t) {
      const plan = t.completed.find((c) => c.type === 'planTransforms')?.result as unknown[] | undefined;
      view.models = {
        built: t.completed.filter((c) => c.type === 'buildTransformModel').length,
        of: plan?.length,
      };
    }
  }
  return view;
}

const n = (x: number) => x.toLocaleString('en-US');

/** One line for a person watching: "loading: files 12/277, rows 48,113 loaded, 3 quarantined (COMI.csv: 12,000 rows)". */
export function formatBatchProgress(v: BatchRunView): string {
  const rows =
    v.results.reduce((s, r) => s + r.rowsLoaded, 0) + v.running.reduce((s, p) => s + p.rowsLoaded, 0);
  const quarantined =
    v.results.reduce((s, r) => s + r.rowsQuarantined, 0) +
    v.running.reduce((s, p) => s + p.rowsQuarantined, 0);
  const files = `files ${v.results.length}/${v.listed ?? '?'}, rows ${n(rows)} loaded, ${n(quarantined)} quarantined`;
  if (v.step === 'loading') {
    const now = v.running
      .map((p) => `${p.key.split('/').pop()}${p.rowsRead ? `: ${n(p.rowsRead)} rows` : ''}`)
      .join(', ');
    return `loading: ${files}${now ? ` (${now})` : ''}`;
  }
  if (v.step === 'transforms')
    return `transforms: ${v.models ? `${v.models.built}/${v.models.of ?? '?'} models built` : 'starting'}; ${files}`;
  return `${v.step}${v.listed === undefined ? '' : `: ${files}`}`;
}

/** Where a transforms run is: models built and tests run of those planned. */
export async function readTransformsRun(
  client: Client,
  workflowId: string,
): Promise<{ planned?: number; built: number; tested: number; docs: boolean }> {
  const t = await runActivities(client.workflow.getHandle(workflowId));
  const plan = t.completed.find((c) => c.type === 'planTransforms')?.result as unknown[] | undefined;
  const count = (type: string) => t.completed.filter((c) => c.type === type).length;
  return {
    planned: plan?.length,
    built: count('buildTransformModel'),
    tested: count('testTransformModel'),
    docs: count('generateTransformDocs') > 0,
  };
}

/**
 * Calls `onProgress` with `read()` every `everyMs` until `done` settles (the caller awaits `done`
 * itself); a view that cannot be read this time is skipped.
 */
export async function watchRun<T>(
  done: Promise<unknown>,
  read: () => Promise<T>,
  onProgress: (view: T) => void,
  everyMs = 1500,
): Promise<void> {
  let finished = false;
  const settled = done.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    await Promise.race([settled, new Promise((r) => setTimeout(r, everyMs))]);
    if (finished) break;
    const view = await read().catch(() => undefined);
    if (view !== undefined && !finished) onProgress(view);
  }
}

/**
 * Progress lines for a person: on a terminal one line redrawn in place (on stderr); otherwise a
 * line each time the text changes, at most one every `quietMs`. `end()` clears the redrawn line.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, quietMs = 5000) {
  let last = '';
  let at = 0;
  return {
    show: (line: string) => {
      if (stream.isTTY) {
        stream.write(`\r\x1b[K${line.slice(0, (stream.columns || 150) - 1)}`);
        return;
      }
      if (line === last || Date.now() - at < quietMs) return;
      last = line;
      at = Date.now();
      stream.write(`${line}\n`);
    },
    end: () => {
      if (stream.isTTY) stream.write('\r\x1b[K');
    },
  };
}
