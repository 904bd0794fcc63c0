/**
 * Workflow IDs of the runs the suite starts itself, in one place: the business-key scheme (one ID
 * per job and business date) that the CLI and the schedules use, so a fault-injected run is found
 * in the Web UI where an operator would look for it. Market sessions, backfills and the stream
 * consumer are started through the CLI's own start functions, which name them.
 */
export const runIds = {
  dailyBatch: (date: string) => `daily-batch-${date}`,
  /** A manual transforms run; scheduled ones carry their slot (e.g. `02:00`) instead of `manual`. */
  transforms: (date: string, slot = 'manual') => `transforms-${date}-${slot}`,
};
