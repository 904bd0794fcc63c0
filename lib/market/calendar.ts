import holidaysFile from './holidays.json' with { type: 'json' };

/** EGX trades Sunday to Thursday, 10:00–14:30 Africa/Cairo, except on the holidays in holidays.json. */
export const EGX_TIMEZONE = 'Africa/Cairo';
export const SESSION = { openMinute: 10 * 60, closeMinute: 14 * 60 + 30 } as const;

export interface MarketCalendar {
  /** 'YYYY-MM-DD' → holiday name. */
  holidays: Map<string, string>;
}

export function egxCalendar(extra: { date: string; name: string }[] = []): MarketCalendar {
  return { holidays: new Map([...holidaysFile.holidays, ...extra].map((h) => [h.date, h.name])) };
}

/** Cairo calendar date, weekday (0 = Sunday) and minute of the day of an instant. */
export function cairoClock(at: Date): { date: string; weekday: number; minute: number } {
  const local = new Date(at.getTime() + cairoOffsetMinutes(at) * 60_000);
  return {
    date: local.toISOString().slice(0, 10),
    weekday: local.getUTCDay(),
    minute: local.getUTCHours() * 60 + local.getUTCMinutes(),
  };
}

/** Why the exchange is closed on a Cairo date, or undefined when it trades. */
export function closedReason(date: string, cal: MarketCalendar): string | undefined {
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  if (weekday === 5 || weekday === 6) return weekday === 5 ? 'Friday' : 'Saturday';
  return cal.holidays.get(date);
}

/** True when the session was open at some minute of [from, to] (checked minute by minute in Cairo time). */
export function marketOpenDuring(from: Date, to: Date, cal: MarketCalendar): boolean {
  for (let t = from.getTime(); t <= to.getTime(); t += 60_000) {
    const c = cairoClock(new Date(t));
    if (c.minute >= SESSION.openMinute && c.minute < SESSION.closeMinute && !closedReason(c.date, cal))
      return true;
  }
  return false;
}

const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: EGX_TIMEZONE, timeZoneName: 'longOffset' });

/** Cairo's offset from UTC in minutes at an instant (+120 in winter, +180 in summer). */
export function cairoOffsetMinutes(at: Date): number {
  // Offsets change only on whole quarter-hours, so one lookup per quarter-hour is exact; Intl is slow
  // enough that years of daily bars would otherwise spend most of their time here.
  const quarter = Math.floor(at.getTime() / QUARTER_HOUR);
  let offset = offsetCache.get(quarter);
  if (offset === undefined) {
    const name =
      offsetFormat.formatToParts(new Date(quarter * QUARTER_HOUR)).find((p) => p.type === 'timeZoneName')
        ?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    if (offsetCache.size >= 1_000_000) offsetCache.clear();
    offsetCache.set(quarter, offset);
  }
  return offset;
}
const QUARTER_HOUR = 15 * 60_000;
const offsetCache = new Map<number, number>();

/** The UTC instant of a Cairo wall-clock time (fields as in Date.UTC). */
export function cairoWallClock(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const first = asUtc - cairoOffsetMinutes(new Date(asUtc)) * 60_000;
  // Re-check at the result: the offset can differ across a daylight-saving change.
  return new Date(asUtc - cairoOffsetMinutes(new Date(first)) * 60_000);
}

/** The start (00:00 Cairo, as UTC) of a Cairo calendar date 'YYYY-MM-DD', `plusDays` later. */
export function cairoMidnight(date: string, plusDays = 0): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return cairoWallClock(y, m, d + plusDays);
}
