import { cairoWallClock, closedReason, SESSION, type MarketCalendar } from './calendar.js';

export type SessionPlan = { date: string; closed: string } | { date: string; open: string; close: string };

/** The session of a Cairo trading date: its open and close instants (UTC), or why the exchange is closed. */
export function sessionPlan(date: string, cal: MarketCalendar): SessionPlan {
  const why = closedReason(date, cal);
  if (why) return { date, closed: why };
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const at = (minute: number) => cairoWallClock(y, m, d, Math.floor(minute / 60), minute % 60).toISOString();
  return { date, open: at(SESSION.openMinute), close: at(SESSION.closeMinute) };
}
