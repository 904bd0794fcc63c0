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
 * The session a first run shows: today's, live, when it is under way or still to come; otherwise
 * (a weekend, a holiday, after the close) the last session that closed, to be replayed as a demo.
 */
export function sessionToShow(now: Date, cal: MarketCalendar): { mode: 'live' | 'demo'; date: string } {
  const today = cairoClock(now).date;
  const plan = sessionPlan(today, cal);
  if ('close' in plan && now.getTime() < Date.parse(plan.close)) return { mode: 'live', date: today };
  for (let t = Date.parse(`${today}T12:00:00Z`); ; t -= 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    if (!closedReason(date, cal) && (date !== today || 'close' in plan)) return { mode: 'demo', date };
  }
}
