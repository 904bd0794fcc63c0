import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import {
  applyPipelineSchedules,
  backfillSchedule,
  controlSchedule,
  formatScheduleRows,
  listPipelineSchedules,
} from '../../cli/schedules.js';
import { loadConfig, type AppConfig } from '../../lib/config.js';
import { cairoClock, cairoWallClock } from '../../lib/market/calendar.js';

const prefix = `t${randomUUID().slice(0, 6)}-`;
// From Monday 26 April 2027: Egypt moves its clocks forward at midnight on Friday 30 April.
const extra = { idPrefix: prefix, taskQueue: `sched-${prefix}`, startAt: cairoWallClock(2027, 4, 26) };
let config: AppConfig;
let client: Client;

beforeAll(async () => {
  config = loadConfig(inject('stackEnv'));
  client = new Client({ connection: await Connection.connect({ address: config.temporal.address }) });
});

afterAll(async () => {
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(prefix)) await client.schedule.getHandle(s.scheduleId).delete();
  }
  await client.connection.close();
});

const nextTimes = async (id: string) =>
  (await client.schedule.getHandle(`${prefix}${id}`).describe()).info.nextActionTimes;

test('apply creates the schedules, a second apply changes nothing, a changed setting updates only its schedule', async () => {
  const ids = [
    'egx-daily-batch',
    'egx-transforms',
    'egx-market-session',
    'egx-weekly-maintenance',
    'egx-health',
  ].map((i) => `${prefix}${i}`);
  expect(await applyPipelineSchedules(config, extra)).toEqual(ids.map((id) => ({ id, outcome: 'created' })));
  expect(await applyPipelineSchedules(config, extra)).toEqual(
    ids.map((id) => ({ id, outcome: 'unchanged' })),
  );
  const changed = await applyPipelineSchedules(
    { ...config, market: { ...config.market, symbols: ['COMI'] } },
    extra,
  );
  expect(changed.filter((c) => c.outcome !== 'unchanged')).toEqual([{ id: ids[2], outcome: 'updated' }]);
  const [session] = await Promise.all([client.schedule.getHandle(ids[2]!).describe()]);
  // Each firing starts the launcher, which runs the job under its business-key ID.
  expect(session.action.type === 'startWorkflow' && session.action.workflowType).toBe('scheduledRunWorkflow');
  expect(session.action.type === 'startWorkflow' && session.action.args).toEqual([
    { job: 'market-session', input: { symbols: ['COMI'], pollMinutes: 5 }, idPrefix: prefix },
  ]);

  // A paused schedule stays paused through an apply, and says so in the list.
  await controlSchedule(config, ids[0]!, 'pause', 'holiday week');
  await applyPipelineSchedules(config, extra);
  const rows = await listPipelineSchedules(config, extra);
  expect(rows[0]).toMatchObject({ id: ids[0], paused: true, note: 'holiday week' });
  expect(formatScheduleRows(rows)).toMatch(
    /PAUSED \(holiday week\)\n {2}next \(Cairo\): Mon, 26\/04\/2027, 01:00/,
  );
  await controlSchedule(config, ids[0]!, 'unpause');
  expect((await listPipelineSchedules(config, extra))[0]!.paused).toBe(false);
});

test('the schedules fire at their Cairo times on both sides of the daylight-saving change', async () => {
  await applyPipelineSchedules(config, extra);
  const at = (d: number, h: number, m = 0) => cairoWallClock(2027, 4, d, h, m).toISOString();

  const batch = (await nextTimes('egx-daily-batch')).map((t) => t.toISOString());
  // 01:00 Cairo: 23:00 UTC the evening before in winter time, 22:00 UTC from 30 April.
  expect(batch.slice(0, 6)).toEqual([
    at(26, 1),
    at(27, 1),
    at(28, 1),
    at(29, 1),
    at(30, 1),
    cairoWallClock(2027, 5, 1, 1).toISOString(),
  ]);
  expect(batch[3]).toBe('2027-04-28T23:00:00.000Z');
  expect(batch[4]).toBe('2027-04-29T22:00:00.000Z');

  const transforms = (await nextTimes('egx-transforms')).map((t) => t.toISOString());
  expect(transforms.slice(0, 4)).toEqual([at(26, 2), at(26, 14), at(27, 2), at(27, 14)]);

  // Before the open, Sunday to Thursday only: never on Friday or Saturday.
  const sessions = await nextTimes('egx-market-session');
  expect(sessions.length).toBeGreaterThanOrEqual(5);
  for (const t of sessions) {
    const c = cairoClock(t);
    expect(c.minute).toBe(9 * 60 + 55);
    expect([0, 1, 2, 3, 4]).toContain(c.weekday);
  }
  expect(sessions[0]!.toISOString()).toBe(at(26, 9, 55));

  const maintenance = await nextTimes('egx-weekly-maintenance');
  expect(maintenance[0]!.toISOString()).toBe('2027-04-30T23:00:00.000Z'); // Saturday 1 May, 02:00 summer time
  expect(cairoClock(maintenance[1]!)).toMatchObject({ weekday: 6, minute: 120 });

  const health = await nextTimes('egx-health');
  expect(health[1]!.getTime() - health[0]!.getTime()).toBe(15 * 60_000);
});

test('a schedule ID that does not exist is answered with the schedules there are', async () => {
  const prefixed = loadConfig({ ...inject('stackEnv'), TEMPORAL_ID_PREFIX: prefix });
  await applyPipelineSchedules(prefixed, extra);
  for (const action of ['pause', 'trigger'] as const) {
    await expect(controlSchedule(prefixed, 'nope', action)).rejects.toThrow(
      new RegExp(
        `^no schedule named nope; schedules: ${prefix}egx-daily-batch, ${prefix}egx-transforms, ${prefix}egx-market-session, ${prefix}egx-weekly-maintenance, ${prefix}egx-health`,
      ),
    );
  }
  await expect(backfillSchedule(prefixed, 'nope', '2026-01-01', '2026-01-02')).rejects.toThrow(
    /^no schedule named nope; schedules: /,
  );
});
