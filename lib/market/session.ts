import { cairoClock, cairoWallClock, closedReason, SESSION, type MarketCalendar } from './calendar.js';

export type SessionPlan = { date: string; closed: string } | { date: string; open: string; close: string };

/** The session of a Cairo trading date: its open and close instants (UTC), or why the exchange is closed. */
export function sessionPlan(date: string, cal: MarketCalendar): SessionPlan {
  const why = closedReason(date, cal);
  if (why) return { date, closed: why };
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const at = (minute: number) => cairoWallClock(y, m, d, Math.floor(minute / 60), minute % 60).toISOString();
  return { date, open: at(SESSION.openMinute), close: at(SESSION.closeMinute) };
}

/**
 * The session a first run shows: today's, live, while it is under way; otherwise (before the open,
 * after the close, a weekend, a holiday) the last session that has closed, to be replayed as a demo.
 */
export function sessionToShow(now: Date, cal: MarketCalendar): { mode: 'live' | 'demo'; date: string } {
  const t = now.getTime();
  for (let day = Date.parse(`${cairoClock(now).date}T12:00:00Z`); ; day -= 86_400_000) {
    const plan = sessionPlan(new Date(day).toISOString().slice(0, 10), cal);
    if (!('close' in plan) || t < Date.parse(plan.open)) continue;
    return { mode: t < Date.parse(plan.close) ? 'live' : 'demo', date: plan.date };
  }
}
