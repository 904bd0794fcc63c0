import {
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { MarketActivities, PollResult } from '../activities/market.js';
import type { Interval } from '../lib/bus/message.js';
import { businessDateOf } from './business-date.js';

export interface MarketSessionInput {
  /** Cairo trading date 'YYYY-MM-DD' (default: the schedule's date). */
  tradingDate?: string;
  symbols: string[];
  /** Minutes between polls (default 5). */
  pollMinutes?: number;
  interval?: Interval;
  /** Carried across continue-as-new. */
  progress?: { polls: number; bars: number; lastPollEnd?: string };
}

export interface MarketSessionStatus {
  tradingDate?: string;
  closed?: string;
  polls: number;
  bars: number;
  lastPollEnd?: string;
  lastFailures: PollResult['failed'];
}

export const statusQuery = defineQuery<MarketSessionStatus>('status');

const act = proxyActivities<MarketActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 3 },
});

/**
 * One trading day of polling (was the streaming producer): a closed day completes at once saying
 * why; otherwise sleep until the open, poll every `pollMinutes` until the close, poll once more
 * after it, and complete with counts. Continues as new when the history grows.
 */
export async function marketSessionWorkflow(input: MarketSessionInput): Promise<MarketSessionStatus> {
  const tradingDate = businessDateOf({ businessDate: input.tradingDate });
  const status: MarketSessionStatus = {
    tradingDate,
    polls: input.progress?.polls ?? 0,
    bars: input.progress?.bars ?? 0,
    lastPollEnd: input.progress?.lastPollEnd,
    lastFailures: [],
  };
  setHandler(statusQuery, () => status);
  if (!tradingDate) throw new Error('no trading date: pass tradingDate or start from the schedule');

  const plan = await act.planMarketSession({ date: tradingDate });
  if ('closed' in plan) return { ...status, closed: plan.closed };
  const open = Date.parse(plan.open);
  const close = Date.parse(plan.close);
  const every = (input.pollMinutes ?? 5) * 60_000;
  if (Date.now() < open) await sleep(open - Date.now());

  const poll = async (until: number) => {
    const from = status.lastPollEnd ?? plan.open;
    const to = new Date(until).toISOString();
    const r = await act.pollMarket({ symbols: input.symbols, interval: input.interval ?? '5m', from, to });
    status.polls++;
    status.bars += r.bars;
    status.lastFailures = r.failed;
    status.lastPollEnd = to;
  };

  while (Date.now() < close) {
    // Poll on the interval grid (10:05, 10:10, …), so bars close before they are fetched.
    const next = Math.min(close, (Math.floor(Date.now() / every) + 1) * every);
    await sleep(next - Date.now());
    await poll(next);
    if (workflowInfo().continueAsNewSuggested && Date.now() < close) {
      await continueAsNew<typeof marketSessionWorkflow>({
        ...input,
        tradingDate,
        progress: { polls: status.polls, bars: status.bars, lastPollEnd: status.lastPollEnd },
      });
    }
  }
  // One last poll after the close picks up the final bar.
  await sleep(60_000);
  await poll(Date.now());
  return status;
}
