/**
 * Workflow IDs: one per business key, whoever starts the run (a schedule, the CLI, a parent run),
 * so the same job and day can never run twice side by side and every control command finds it.
 * Pure functions, safe in workflow code. See docs/ARCHITECTURE.md, "Workflow IDs".
 */

/** Jobs a schedule starts through the launcher (`scheduledRunWorkflow`). */
export type ScheduledJob = 'daily-batch' | 'transforms' | 'market-session' | 'maintenance';

export const workflowIds = {
  /** `daily-batch-2026-11-29` */
  dailyBatch: (date: string) => `daily-batch-${date}`,
  /** `transforms-2026-11-29-14:00` for a scheduled slot; other slots name who asked (`manual`, `demo`). */
  transforms: (date: string, slot: string) => `transforms-${date}-${slot}`,
  /** `market-session-2026-11-29` */
  marketSession: (date: string) => `market-session-${date}`,
  /** Demo replays of a past session never collide with (or pass for) the day's live session. */
  demoSession: (date: string) => `market-session-demo-${date}`,
  /** `maintenance-2026-W48` (ISO week of the business date). */
  maintenance: (date: string) => `maintenance-${isoWeek(date)}`,
  /** The per-warehouse lock that keeps transforms and maintenance one at a time. */
  warehouseLock: (warehouse: string) => `warehouse-lock-${warehouse}`,
  /** A child run of a parent: the parent's ID plus what the child does. */
  child: (parentId: string, what: string) => `${parentId}-${what}`,
} as const;

/** ISO-8601 week of a 'YYYY-MM-DD' date: '2026-W48'. */
export function isoWeek(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  // The Thursday of the date's week decides the ISO year.
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - day + 3);
  const year = d.getUTCFullYear();
  const week = Math.floor((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}
