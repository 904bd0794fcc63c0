import { Context } from '@temporalio/activity';
import type { ObjectStore } from '../lib/lake/types.js';
import { archiveOldStreamBars, type ArchiveResult } from '../lib/ops/archive.js';
import type { Warehouse } from '../lib/warehouse/types.js';
import { heartbeating } from './heartbeat.js';

export function createMaintenanceActivities({
  store,
  warehouse,
}: {
  store: ObjectStore;
  warehouse: Warehouse;
}) {
  return {
    /** Archives streamed bars older than `retentionDays` before `asOf` to the object store, then deletes them. */
    async archiveOldStreamedBars(input: {
      asOf: string;
      retentionDays: number;
      runId: string;
    }): Promise<ArchiveResult> {
      const cutoff = new Date(Date.parse(input.asOf) - input.retentionDays * 86_400_000);
      const r = await heartbeating((signal) =>
        archiveOldStreamBars(warehouse, store, { cutoff, runId: input.runId, signal }),
      );
      Context.current().log.info('archived old streamed bars', { ...r, months: r.months.length });
      return r;
    },

    /** Compacts the warehouse: DuckDB writes its WAL into the file and refreshes statistics; Snowflake manages storage itself. */
    async optimiseWarehouse(): Promise<string> {
      if (warehouse.dialect !== 'duckdb') return 'nothing to do: Snowflake manages its storage';
      return heartbeating(async (signal) => {
        await warehouse.execute('CHECKPOINT', [], { signal });
        await warehouse.execute('ANALYZE', [], { signal });
        return 'DuckDB: checkpoint and statistics refreshed';
      });
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
