import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { LockRequester, RunActivities } from '../activities/runs.js';

export const acquireLockSignal = defineSignal<[LockRequester]>('acquire');
/** From the holder when done, or from a waiter that gave up. */
export const releaseLockSignal = defineSignal<[LockRequester]>('release');
/** To the requester: the warehouse is yours until you release it. */
export const lockGrantedSignal = defineSignal<[{ lockId: string }]>('lockGranted');

export interface WarehouseLockState {
  holder?: LockRequester & { since: string };
  waiting: LockRequester[];
}
export const lockStateQuery = defineQuery<WarehouseLockState>('state');

export interface WarehouseLockInput extends Partial<WarehouseLockState> {
  warehouse: string;
}

const act = proxyActivities<RunActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

const same = (a: LockRequester, b: LockRequester) => a.workflowId === b.workflowId && a.runId === b.runId;

/**
 * One writer at a time on a warehouse: transforms and maintenance runs queue here (first come,
 * first served) and hold the lock while they rebuild models or reorganise storage. A holder that
 * ends without releasing (terminated, timed out) is noticed within a minute and the lock passes on.
 * Ends as soon as nobody holds or waits for it; the next request starts it again.
 */
export async function warehouseLockWorkflow(input: WarehouseLockInput): Promise<void> {
  const state: WarehouseLockState = { holder: input.holder, waiting: [...(input.waiting ?? [])] };
  setHandler(lockStateQuery, () => state);
  setHandler(acquireLockSignal, (r) => {
    if (!(state.holder && same(state.holder, r)) && !state.waiting.some((w) => same(w, r)))
      state.waiting.push(r);
  });
  setHandler(releaseLockSignal, (r) => {
    if (state.holder && same(state.holder, r)) state.holder = undefined;
    state.waiting = state.waiting.filter((w) => !same(w, r));
  });

  for (let grants = 0; ;) {
    if (!state.holder) {
      const next = state.waiting.shift();
      if (!next) {
        // Nobody holds or waits: done. The next request starts the lock again.
        await condition(allHandlersFinished);
        if (state.waiting.length === 0) return;
        continue;
      }
      try {
        await getExternalWorkflowHandle(next.workflowId, next.runId).signal(lockGrantedSignal, {
          lockId: workflowInfo().workflowId,
        });
        state.holder = { ...next, since: new Date().toISOString() };
        grants++;
      } catch (e) {
        // The requester is gone (it ended while waiting): serve the next one.
        log.warn('lock requester is gone', { requester: next.workflowId, error: (e as Error).message });
        continue;
      }
    }
    // Wait for the release; once a minute, make sure the holder is still there.
    const released = await condition(() => state.holder === undefined, '1 minute');
    if (!released && state.holder && !(await act.isRunOpen(state.holder))) {
      log.warn('lock holder ended without releasing; passing the lock on', {
        holder: state.holder.workflowId,
      });
      state.holder = undefined;
    }
    if (grants >= 500 || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof warehouseLockWorkflow>({ warehouse: input.warehouse, ...state });
    }
  }
}

/**
 * Runs `body` holding the warehouse lock: queues for it, waits for the grant, and releases it
 * afterwards whatever happens (also when this run is cancelled, or gives up while waiting).
 */
export async function withWarehouseLock<T>(body: () => Promise<T>): Promise<T> {
  const me: LockRequester = { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId };
  let granted: string | undefined;
  setHandler(lockGrantedSignal, (g) => void (granted = g.lockId));
  const { lockId } = await act.requestWarehouseLock({ requester: me });
  const release = () =>
    CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(lockId).signal(releaseLockSignal, me),
    ).catch((e: unknown) => {
      if (!isCancellation(e)) log.warn('could not release the warehouse lock', { lockId, error: String(e) });
    });
  try {
    await condition(() => granted !== undefined);
    return await body();
  } finally {
    await release();
  }
}
