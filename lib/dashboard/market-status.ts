import { cairoClock, SESSION, type MarketCalendar } from '../market/calendar.js';
import { sessionPlan } from '../market/session.js';

/** Whether the exchange trades now, why (not), and when the next session opens. */
export interface MarketStatus {
  open: boolean;
  /** Cairo date of `at`. */
  date: string;
  /** One line a person reads: "open until 14:30 Cairo", "closed: Friday", "closed: Labour Day", "closed: before the open". */
  reason: string;
  /** The session under way (open) or the next one to open (closed); Cairo date and instants as ISO-8601 UTC. */
  session: { date: string; open: string; close: string };
  at: string;
}

const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
const nextDay = (date: string) =>
  new Date(Date.parse(`${date}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * The market status at an instant, from the EGX calendar: Sunday–Thursday 10:00–14:30 Cairo,
 * closed on Fridays, Saturdays and the holidays in the calendar.
 */
export function marketStatus(at: Date, cal: MarketCalendar): MarketStatus {
  const now = at.getTime();
  const { date, minute } = cairoClock(at);
  const today = sessionPlan(date, cal);
  if ('open' in today && now >= Date.parse(today.open) && now < Date.parse(today.close)) {
    return {
      open: true,
      date,
      reason: `open until ${hhmm(SESSION.closeMinute)} Cairo`,
      session: today,
      at: at.toISOString(),
    };
  }
  let reason: string;
  if ('closed' in today) reason = `closed: ${today.closed}`;
  else if (minute < SESSION.openMinute)
    reason = `closed: before the open (${hhmm(SESSION.openMinute)} Cairo)`;
  else reason = `closed: after the close (${hhmm(SESSION.closeMinute)} Cairo)`;
  // The next session: today's when it has yet to open, else the next trading day (a year ahead at most).
  let day = date;
  for (let i = 0; i < 366; i++) {
    const plan = sessionPlan(day, cal);
    if ('open' in plan && Date.parse(plan.open) > now)
      return { open: false, date, reason, session: plan, at: at.toISOString() };
    day = nextDay(day);
  }
  throw new Error(`no EGX session within a year of ${date}: is the holiday calendar right?`);
}
