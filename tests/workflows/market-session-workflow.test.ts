import type { AlertActivities } from '../../activities/alerts.js';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { LiveActivities, LiveRefreshInput } from '../../activities/live.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, test, vi } from 'vitest';
import type { MarketActivities } from '../../activities/market.js';
import { egxCalendar } from '../../lib/market/calendar.js';
import { sessionPlan } from '../../lib/market/session.js';
import { SA } from '../../temporal-config/search-attribute-keys.js';
import { WORKFLOWS_PATH } from '../../workers/pipeline-worker.js';
import {
  pauseSignal,
  pollNowSignal,
  resumeSignal,
  setSymbolsSignal,
  statusQuery,
  type marketSessionWorkflow,
} from '../../workflows/market-session.js';
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

function activities(opts: { refreshFails?: boolean } = {}) {
  const windows: { from: string; to: string; symbols: string[] }[] = [];
  const alerts: unknown[] = [];
  const refreshes: LiveRefreshInput[] = [];
  const acts: MarketActivities & AlertActivities & LiveActivities = {
    refreshIntradayGold: vi.fn(async (input: LiveRefreshInput) => {
      refreshes.push(input);
      if (opts.refreshFails)
        throw ApplicationFailure.nonRetryable('the warehouse is read-only', 'WarehouseReadOnly');
      return {
        tradingDate: input.tradingDate,
        pollEnd: input.to,
        expectedBars: input.expectedBars,
        committedBars: input.expectedBars,
        waitedSeconds: 0,
        models: [],
        quotes: input.symbols.length,
        seconds: 0.5,
      };
    }),
    sendAlert: vi.fn(async () => ({ sent: ['webhook'], grouped: false })),
    alertSymbolFailing: vi.fn(async (a: unknown) => void alerts.push(a)),
    planMarketSession: vi.fn(async ({ date }: { date: string }) => sessionPlan(date, cal)),
    pollMarket: vi.fn(async ({ from, to, symbols }: { from: string; to: string; symbols: string[] }) => {
      windows.push({ from, to, symbols });
      return {
        bars: symbols.length,
        failed: symbols.includes('BAD') ? [{ symbol: 'BAD', reason: 'unknown symbol' }] : [],
      };
    }),
  };
  return { acts, windows, alerts, refreshes };
}

/** The summaries the Web UI shows for a run's activities of one type. */
async function activitySummaries(events: temporal.api.history.v1.IHistoryEvent[], type: string) {
  return events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    const payload = a?.activityType?.name === type ? e.userMetadata?.summary : undefined;
    return payload ? [defaultPayloadConverter.fromPayload<string>(payload)] : [];
  });
}

describe('marketSessionWorkflow', () => {
  test('a trading day: sleeps until the open, polls every 5 minutes until the close, once more after it', async () => {
    const date = await nextDate(0); // a Sunday
    const plan = sessionPlan(date, cal) as { open: string; close: string };
    const { acts, windows, alerts } = activities();
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
    expect(windows[0]).toMatchObject({
      from: plan.open,
      to: new Date(Date.parse(plan.open) + 5 * 60_000).toISOString(),
    });
    // Contiguous windows: nothing fetched twice, nothing skipped, nothing before the open.
    windows.slice(1).forEach((w, i) => expect(w.from).toBe(windows[i]!.to));
    expect(windows[53]!.to).toBe(plan.close);
    expect(Date.parse(windows[54]!.to)).toBeGreaterThan(Date.parse(plan.close));
    // BAD failed every poll: one alert, raised on the third failure in a row.
    expect(alerts).toEqual([
      {
        tradingDate: date,
        symbol: 'BAD',
        failures: 3,
        reason: 'unknown symbol',
        at: new Date(Date.parse(plan.open) + 15 * 60_000).toISOString(),
      },
    ]);
    expect(out.failing).toEqual({ BAD: 55 });
  });

  test("after each poll, intraday gold is refreshed for that poll's window, named in the Web UI", async () => {
    const date = await nextDate(3); // a Wednesday
    const { acts, windows, refreshes } = activities();
    const taskQueue = `market-live-${randomUUID()}`;
    const workflowId = `market-live-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      taskQueue,
      workflowBundle: ctx.bundle,
      activities: acts,
    });
    const { out, events, details } = await worker.runUntil(async () => {
      const h = await ctx.env.client.workflow.start<typeof marketSessionWorkflow>('marketSessionWorkflow', {
        taskQueue,
        workflowId,
        args: [{ tradingDate: date, symbols: ['COMI', 'ETEL'] }],
      });
      const result = await h.result();
      const meta = await h.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      return { out: result, events: (await h.fetchHistory()).events ?? [], details: meta.currentDetails };
    });
    // One refresh per poll, each for the bars that poll published.
    expect(refreshes.map((r) => [r.from, r.to, r.expectedBars])).toEqual(
      windows.map((w) => [w.from, w.to, 2]),
    );
    // The refresh after the close waits longer for the consumer, so the day's marts end complete.
    expect(refreshes.map((r) => r.waitMs)).toEqual([...Array<undefined>(54).fill(undefined), 120_000]);
    expect(refreshes[0]).toMatchObject({
      tradingDate: date,
      runId: `${workflowId}-live`,
      symbols: ['COMI', 'ETEL'],
      interval: '5m',
    });
    expect(out.intraday).toMatchObject({
      refreshes: 55,
      failed: 0,
      last: { pollEnd: windows[54]!.to, quotes: 2, committedBars: 2, expectedBars: 2 },
    });
    const summaries = await activitySummaries(events, 'refreshIntradayGold');
    expect(summaries).toHaveLength(55);
    expect(summaries[0]).toBe(`intraday gold, session ${date}: poll ending 10:05 Cairo, 2 bars of 2 symbols`);
    expect(details).toMatch(
      /intraday gold: refreshed after the poll ending 14:3\d Cairo: 2 symbols, 2\/2 bars committed, 0\.5 s; 55 refreshes$/,
    );
  });

  test('a failing refresh never stops the polls: counted, reported, and tried again after the next poll', async () => {
    const { acts, windows, refreshes } = activities({ refreshFails: true });
    const out = await runWorkflow<typeof marketSessionWorkflow>(
      ctx,
      'marketSessionWorkflow',
      [{ tradingDate: await nextDate(4), symbols: ['COMI'] }],
      acts,
    );
    expect(out).toMatchObject({ polls: 55, bars: 55 });
    expect(windows).toHaveLength(55);
    expect(refreshes).toHaveLength(55);
    expect(out.intraday).toMatchObject({ refreshes: 0, failed: 55, lastError: 'the warehouse is read-only' });
    // One alert, on the third failure in a row.
    expect(acts.sendAlert).toHaveBeenCalledTimes(1);
    expect(acts.sendAlert).toHaveBeenCalledWith(
      expect.objectContaining({
        title: expect.stringMatching(
          /^intraday gold of market session \d{4}-\d\d-\d\d failed 3 refreshes in a row$/,
        ),
        key: 'market:intraday-gold:failing',
      }),
    );
  });

  test('signals: pause skips polls, poll-now fetches closed bars at once, resume catches up, set-symbols switches', async () => {
    const date = await nextDate(1); // a Monday
    const plan = sessionPlan(date, cal) as { open: string; close: string };
    const open = Date.parse(plan.open);
    const { acts, windows } = activities();
    const taskQueue = `market-signals-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      taskQueue,
      workflowBundle: ctx.bundle,
      activities: acts,
    });
    const minute = 60_000;
    const skipTo = async (at: number) => ctx.env.sleep(at - (await ctx.env.currentTimeMs()));
    const out = await worker.runUntil(async () => {
      const h = await ctx.env.client.workflow.start<typeof marketSessionWorkflow>('marketSessionWorkflow', {
        taskQueue,
        workflowId: `market-signals-${randomUUID()}`,
        args: [{ tradingDate: date, symbols: ['COMI', 'ETEL'] }],
      });
      await skipTo(open + 12 * minute); // polls at 10:05 and 10:10
      await h.signal(pauseSignal);
      await skipTo(open + 33 * minute); // 10:15 … 10:30 skipped
      expect(await h.query(statusQuery)).toMatchObject({ polls: 2, paused: true });
      await h.signal(pollNowSignal); // fetches the bars closed by 10:30, though paused
      await skipTo(open + 34 * minute);
      expect(await h.query(statusQuery)).toMatchObject({
        polls: 3,
        lastPollEnd: new Date(open + 30 * minute).toISOString(),
      });
      await skipTo(open + 47 * minute); // 10:35 … 10:45 skipped
      await h.signal(resumeSignal);
      await h.signal(setSymbolsSignal, ['COMI', 'SWDY', 'SWDY']);
      const result = await h.result();
      // However it was started, the run carries its pipeline and date for searches in the Web UI.
      const tags = (await h.describe()).typedSearchAttributes;
      expect([tags.get(SA.pipeline), tags.get(SA.businessDate)]).toEqual(['market-session', date]);
      return result;
    });
    const at = (m: number) => new Date(open + m * minute).toISOString();
    expect(windows.slice(0, 4).map((w) => [w.from, w.to, w.symbols.join(',')])).toEqual([
      [at(0), at(5), 'COMI,ETEL'],
      [at(5), at(10), 'COMI,ETEL'],
      [at(10), at(30), 'COMI,ETEL'],
      // After resuming, the first poll covers the paused gap.
      [at(30), at(50), 'COMI,SWDY'],
    ]);
    windows.slice(1).forEach((w, i) => expect(w.from).toBe(windows[i]!.to));
    expect(windows.every((w) => Date.parse(w.from) >= open)).toBe(true);
    expect(out).toMatchObject({ paused: false, symbols: ['COMI', 'SWDY'], polls: windows.length });
    // 3 polls before the resume, 10:50 … 14:30 (45 polls), one after the close.
    expect(windows).toHaveLength(3 + 45 + 1);
  });

  test('a run cancelled while it waits for the open sends no alert', async () => {
    const { acts } = activities();
    const taskQueue = `market-cancel-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      taskQueue,
      workflowBundle: ctx.bundle,
      activities: acts,
    });
    await worker.runUntil(async () => {
      const h = await ctx.env.client.workflow.start<typeof marketSessionWorkflow>('marketSessionWorkflow', {
        taskQueue,
        workflowId: `market-cancel-${randomUUID()}`,
        args: [{ tradingDate: await nextDate(3), symbols: ['COMI'] }],
      });
      // Planned, now asleep until the open: no activity in flight.
      while (!(acts.planMarketSession as ReturnType<typeof vi.fn>).mock.calls.length)
        await new Promise((r) => setTimeout(r, 20));
      await h.cancel();
      await expect(h.result()).rejects.toThrow(/cancel/i);
    });
    expect(acts.sendAlert).not.toHaveBeenCalled();
    expect(acts.pollMarket).not.toHaveBeenCalled();
  });

  test('continues as new when the history grows, carrying its counts and window', async () => {
    const date = await nextDate(2); // a Tuesday
    const { acts, windows } = activities();
    const taskQueue = `market-can-${randomUUID()}`;
    const workflowId = `market-can-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      taskQueue,
      workflowBundle: ctx.bundle,
      activities: acts,
    });
    const { out, firstRunId, lastRunId } = await worker.runUntil(async () => {
      const h = await ctx.env.client.workflow.start<typeof marketSessionWorkflow>('marketSessionWorkflow', {
        taskQueue,
        workflowId,
        args: [{ tradingDate: date, symbols: ['COMI', 'BAD'], maxPollsPerRun: 10 }],
      });
      const result = await h.result();
      const last = await ctx.env.client.workflow.getHandle(workflowId).describe();
      return { out: result, firstRunId: h.firstExecutionRunId, lastRunId: last.runId };
    });
    expect(lastRunId).not.toBe(firstRunId);
    expect(out).toMatchObject({ polls: 55, bars: 110, failing: { BAD: 55 } });
    // Intraday gold's counts carry over too: every poll was refreshed, none twice.
    expect(out.intraday).toMatchObject({ refreshes: 55, failed: 0 });
    expect(out.alerts).toHaveLength(1);
    expect(windows).toHaveLength(55);
    windows.slice(1).forEach((w, i) => expect(w.from).toBe(windows[i]!.to));
  });

  test('demo mode replays a past session compressed: every window of the day, in minutes instead of hours', async () => {
    // A Sunday that traded and lies at least a week behind the server clock.
    let date = '';
    for (let t = (await ctx.env.currentTimeMs()) - 7 * 86_400_000; !date; t -= 86_400_000) {
      const d = new Date(t).toISOString().slice(0, 10);
      if (new Date(t).getUTCDay() === 0 && 'open' in sessionPlan(d, cal)) date = d;
    }
    const plan = sessionPlan(date, cal) as { open: string; close: string };
    const { acts, windows } = activities();
    const taskQueue = `market-demo-${randomUUID()}`;
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      taskQueue,
      workflowBundle: ctx.bundle,
      activities: acts,
    });
    const handle = await ctx.env.client.workflow.start<typeof marketSessionWorkflow>(
      'marketSessionWorkflow',
      {
        taskQueue,
        workflowId: `market-demo-${randomUUID()}`,
        args: [{ tradingDate: date, symbols: ['COMI', 'ETEL'], demo: { speed: 60 } }],
      },
    );
    const out = await worker.runUntil(handle.result());
    expect(out).toMatchObject({ tradingDate: date, demoSpeed: 60, polls: 55, bars: 110 });
    // The same windows as the live day, market time, contiguous from the open to after the close.
    expect(windows[0]).toMatchObject({
      from: plan.open,
      to: new Date(Date.parse(plan.open) + 5 * 60_000).toISOString(),
    });
    windows.slice(1).forEach((w, i) => expect(w.from).toBe(windows[i]!.to));
    expect(windows[53]!.to).toBe(plan.close);
    // The waits between polls, from the run's own timers: 5 market minutes are 5 s at 60×, and the
    // 4 h 30 of session plus the minute after the close take about 4.5 minutes (less the real time
    // the polls themselves took: the replay clock runs on while they do).
    const timers = ((await handle.fetchHistory()).events ?? []).flatMap((e) => {
      const d = e.timerStartedEventAttributes?.startToFireTimeout;
      return d ? [Number(d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6)] : [];
    });
    expect(Math.max(...timers)).toBeLessThanOrEqual(5_001);
    const total = timers.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(255_000);
    expect(total).toBeLessThan(300_000);
  });

  test('without a trading date (not scheduled, none given) the run fails at once as BadInput', async () => {
    const { acts } = activities();
    const err = await runWorkflow<typeof marketSessionWorkflow>(
      ctx,
      'marketSessionWorkflow',
      [{ symbols: ['COMI'] }],
      acts,
    ).catch((e: unknown) => e);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('BadInput');
    expect(acts.planMarketSession).not.toHaveBeenCalled();
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
