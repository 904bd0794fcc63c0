import { describe, expect, test, vi } from 'vitest';
import type { MarketActivities } from '../../activities/market.js';
import { egxCalendar } from '../../lib/market/calendar.js';
import { sessionPlan } from '../../lib/market/session.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import type { marketSessionWorkflow } from '../../workflows/market-session.js';
import { runWorkflow, useTimeSkippingWorkflows } from '../support/temporal.js';

const ctx = useTimeSkippingWorkflows(WORKFLOWS_PATH);
const cal = egxCalendar();

/**
 * The next date (at least two days after the test server's clock, which earlier test files move
 * forward) with the given weekday that is a trading day, or any day for Friday.
 */
async function nextDate(weekday: number): Promise<string> {
  for (let t = (await ctx.env.currentTimeMs()) + 2 * 86_400_000; ; t += 86_400_000) {
    const d = new Date(t);
    const date = d.toISOString().slice(0, 10);
    if (d.getUTCDay() === weekday && ('open' in sessionPlan(date, cal) || weekday === 5)) return date;
  }
}

function activities() {
  const windows: { from: string; to: string }[] = [];
  const acts: MarketActivities = {
    planMarketSession: vi.fn(async ({ date }: { date: string }) => sessionPlan(date, cal)),
    pollMarket: vi.fn(async ({ from, to, symbols }: { from: string; to: string; symbols: string[] }) => {
      windows.push({ from, to });
      return {
        bars: symbols.length,
        failed: symbols.includes('BAD') ? [{ symbol: 'BAD', reason: 'unknown symbol' }] : [],
      };
    }),
  };
  return { acts, windows };
}

describe('marketSessionWorkflow', () => {
  test('a trading day: sleeps until the open, polls every 5 minutes until the close, once more after it', async () => {
    const date = await nextDate(0); // a Sunday
    const plan = sessionPlan(date, cal) as { open: string; close: string };
    const { acts, windows } = activities();
    const out = await runWorkflow<typeof marketSessionWorkflow>(
      ctx,
      'marketSessionWorkflow',
      [{ tradingDate: date, symbols: ['COMI', 'ETEL', 'BAD'] }],
      acts,
    );
    // 10:05 … 14:30 is 54 polls, plus the one after the close.
    expect(out).toMatchObject({
      tradingDate: date,
      polls: 55,
      bars: 165,
      lastFailures: [{ symbol: 'BAD', reason: 'unknown symbol' }],
    });
    expect(windows).toHaveLength(55);
    expect(windows[0]).toEqual({
      from: plan.open,
      to: new Date(Date.parse(plan.open) + 5 * 60_000).toISOString(),
    });
    // Contiguous windows: nothing fetched twice, nothing skipped, nothing before the open.
    windows.slice(1).forEach((w, i) => expect(w.from).toBe(windows[i]!.to));
    expect(windows[53]!.to).toBe(plan.close);
    expect(Date.parse(windows[54]!.to)).toBeGreaterThan(Date.parse(plan.close));
  });

  test('a closed day completes at once, saying why, without polling', async () => {
    const { acts } = activities();
    const out = await runWorkflow<typeof marketSessionWorkflow>(
      ctx,
      'marketSessionWorkflow',
      [{ tradingDate: await nextDate(5), symbols: ['COMI'] }],
      acts,
    );
    expect(out).toMatchObject({ closed: 'Friday', polls: 0 });
    expect(acts.pollMarket).not.toHaveBeenCalled();
  });
});
