import type { temporal } from '@temporalio/proto';
import { ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runDailyBatch } from '../../cli/run.js';
import { controlMarketSession, startMarketSession } from '../../cli/stream.js';
import { seedSyntheticHistory } from '../../lib/sources/history-files.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { startOrAttach } from '../../temporal-config/runs.js';
import { workflowIds, type ScheduledJob } from '../../temporal-config/workflow-ids.js';
import { cairoDate } from '../../workflows/business-date.js';
import type { ScheduledRunInput, ScheduledRunOutput } from '../../workflows/scheduled.js';
import { usePipelineWorker } from '../support/pipeline-worker.js';

const ctx = usePipelineWorker('keys-it', {
  OBJECT_STORE: 'local',
  BUS: 'direct',
  EGX_SYMBOLS: 'COMI,ETEL',
});
const today = cairoDate(new Date());
const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const schedules: string[] = [];

beforeAll(async () => {
  await seedSyntheticHistory({
    source: new SimulatorSource(),
    store: ctx.deps.store,
    symbols: ['COMI', 'ETEL'],
    from: addDays(today, -90),
    to: addDays(today, -1),
  });
});

afterAll(async () => {
  for (const id of schedules) await ctx.client.schedule.getHandle(id).delete();
});

/** A schedule of one job as `egx schedules apply` makes it (never due by itself here), fired now. */
async function fireSchedule(
  job: ScheduledJob,
  input: Record<string, unknown> = {},
): Promise<ScheduledRunOutput> {
  const prefix = ctx.config.temporal.idPrefix;
  const scheduleId = `${prefix}egx-${job}-${schedules.length}`;
  const before = new Date();
  const handle = await ctx.client.schedule.create({
    scheduleId,
    spec: { calendars: [{ year: 2099, month: 'JANUARY', dayOfMonth: 1 }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledRunWorkflow',
      taskQueue: ctx.taskQueue,
      args: [{ job, input, idPrefix: prefix } satisfies ScheduledRunInput],
      workflowId: `${prefix}scheduled-${job}-${schedules.length}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
  });
  schedules.push(scheduleId);
  await handle.trigger();
  for (let i = 0; i < 100; i++) {
    const recent = (await handle.describe()).info.recentActions.filter((a) => a.takenAt >= before);
    const id = recent[0]?.action.workflow.workflowId;
    if (id) return ctx.client.workflow.getHandle(id).result() as Promise<ScheduledRunOutput>;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`schedule ${scheduleId} did not fire`);
}

async function executionsOf(workflowId: string): Promise<number> {
  let n = 0;
  for await (const w of ctx.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) if (w) n++;
  return n;
}

test('a manual start and a scheduled firing of the same day are one run: the second follows the first, and a finished day is not run again', async () => {
  const id = `${ctx.config.temporal.idPrefix}${workflowIds.dailyBatch(today)}`;
  let startedManually: () => void = () => undefined;
  const manualStarted = new Promise<void>((r) => (startedManually = r));
  const manual = runDailyBatch(ctx.config, {
    date: today,
    taskQueue: ctx.taskQueue,
    onStarted: () => startedManually(),
  });
  await manualStarted;
  // The 01:00 schedule fires while the manual run is loading.
  const scheduled = await fireSchedule('daily-batch');
  expect(scheduled.workflowId).toBe(id);
  expect(scheduled.outcome).not.toBe('started');
  expect((await manual).outcome).toBe('started');
  expect((await manual).files.loaded).toBeGreaterThan(0);
  // Fired again once the day is done: nothing runs.
  expect(await fireSchedule('daily-batch')).toEqual({ workflowId: id, outcome: 'completed' });
  const again = await runDailyBatch(ctx.config, { date: today, taskQueue: ctx.taskQueue });
  expect(again.outcome).toBe('completed');
  expect(await executionsOf(id)).toBe(1);

  // The Web UI's timeline reads like the job: the run's summary, each step named, current details.
  const run = ctx.client.workflow.getHandle(id);
  expect(await (await run.describe()).staticSummary()).toBe(`daily batch ${today} (manual)`);
  const summaries = await activitySummaries(run);
  expect(summaries).toContain('load batch/prices/COMI.csv');
  expect(summaries).toContain(`quality gate for ${today}`);
  const meta = await run.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(meta.currentDetails).toMatch(
    new RegExp(`^daily batch ${today}: done\\n\\nfiles \\d+ loaded, .* rows [\\d,]+ loaded`),
  );
  const child = ctx.client.workflow.getHandle(`${id}-transforms`);
  expect(await activitySummaries(child)).toEqual(
    expect.arrayContaining(['build gold_fct_stock_daily_prices', 'test gold_fct_stock_daily_prices']),
  );
});

/** The summaries the Web UI shows for a run's activities. */
async function activitySummaries(h: WorkflowHandle): Promise<string[]> {
  const events = ((await h.fetchHistory()).events ?? []) as temporal.api.history.v1.IHistoryEvent[];
  return events.flatMap((e) => {
    const payload = e.activityTaskScheduledEventAttributes ? e.userMetadata?.summary : undefined;
    return payload ? [defaultPayloadConverter.fromPayload<string>(payload)] : [];
  });
}

test('overlapping transforms on one warehouse run one after the other through the lock, and both finish', async () => {
  const prefix = ctx.config.temporal.idPrefix;
  const start = (slot: string) =>
    startOrAttach(ctx.client, {
      workflowType: 'transformsWorkflow',
      workflowId: `${prefix}${workflowIds.transforms(today, slot)}`,
      taskQueue: ctx.taskQueue,
      args: [{ businessDate: today, fullRefresh: true }],
    });
  const runs = await Promise.all([start('a'), start('b'), start('c')]);
  const outputs = (await Promise.all(runs.map((r) => r.handle.result()))) as { built: unknown[] }[];
  for (const o of outputs) expect(o.built.length).toBeGreaterThanOrEqual(16);

  // From the histories: each run's warehouse work (first build scheduled → docs completed) does not overlap another's.
  const spans = await Promise.all(runs.map((r) => warehouseSpan(r.handle)));
  spans.sort((a, b) => a.from - b.from);
  for (let i = 1; i < spans.length; i++) expect(spans[i]!.from).toBeGreaterThanOrEqual(spans[i - 1]!.to);

  const [gold] = await ctx.deps.warehouse.query<{ N: number }>(
    'SELECT COUNT(*) AS N FROM GOLD.gold_fct_stock_daily_prices',
  );
  const [prices] = await ctx.deps.warehouse.query<{ N: number }>(
    'SELECT COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE',
  );
  expect(gold!.N).toBe(prices!.N);
  // No staging table is left behind.
  const [left] = await ctx.deps.warehouse.query<{ N: number }>(
    "SELECT COUNT(*) AS N FROM information_schema.tables WHERE table_name LIKE '%\\_\\_wap%' ESCAPE '\\'",
  );
  expect(left!.N).toBe(0);
});

test("the schedule's market session is the day's only one: egx market start follows it and egx market status finds it", async () => {
  const fired = fireSchedule('market-session', { symbols: ['COMI'], pollMinutes: 5 });
  const id = `${ctx.config.temporal.idPrefix}${workflowIds.marketSession(today)}`;
  let session: WorkflowHandle | undefined;
  for (let i = 0; i < 100 && !session; i++) {
    if ((await executionsOf(id)) > 0) session = ctx.client.workflow.getHandle(id);
    else await new Promise((r) => setTimeout(r, 200));
  }
  expect(session).toBeDefined();
  const started = await startMarketSession(ctx.config, { date: today, taskQueue: ctx.taskQueue });
  expect(started.workflowId).toBe(id);
  expect(started.outcome).not.toBe('started');
  const status = await controlMarketSession(ctx.config, { date: today, action: 'status' });
  expect(status.tradingDate).toBe(today);
  expect(await executionsOf(id)).toBe(1);
  if ((await session!.describe()).status.name === 'RUNNING') await session!.terminate('test over');
  await fired.catch(() => undefined);
});

async function warehouseSpan(h: WorkflowHandle): Promise<{ from: number; to: number }> {
  const events = (await h.fetchHistory()).events ?? [];
  const types = new Map<number, string>();
  const times: number[] = [];
  for (const e of events as temporal.api.history.v1.IHistoryEvent[]) {
    const id = Number(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(id, scheduled.activityType?.name ?? '');
    const kind =
      types.get(id) ??
      types.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1)) ??
      '';
    if (['buildTransformModel', 'testTransformModel', 'generateTransformDocs'].includes(kind))
      times.push(Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6));
  }
  return { from: Math.min(...times), to: Math.max(...times) };
}
