import { fileURLToPath } from 'node:url';
import { listCsvKeys, loadFiles } from '../../lib/ingest/load-many.js';
import type { ObjectStore } from '../../lib/lake/types.js';
import { seedSyntheticHistory } from '../../lib/sources/history-files.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import { createDirectPublisher } from '../../lib/stream/direct.js';
import { createBarSink } from '../../lib/stream/sink.js';
import { buildModel } from '../../lib/transforms/build.js';
import { loadProject, planRun } from '../../lib/transforms/project.js';
import type { Warehouse } from '../../lib/warehouse/types.js';

const TRANSFORMS_DIR = fileURLToPath(new URL('../../transforms', import.meta.url));

/**
 * A warehouse with gold to show: a synthetic daily history (the market simulator, as a first run
 * seeds it) loaded by the batch loader, and every model built, without Temporal.
 */
export async function seedGold(
  deps: { store: ObjectStore; warehouse: Warehouse },
  opts: { symbols: string[]; from: string; to: string },
): Promise<void> {
  await seedSyntheticHistory({ source: new SimulatorSource(), store: deps.store, ...opts });
  const runId = `dashboard-seed-${Date.now()}`;
  await loadFiles(
    { store: deps.store, lake: deps.store, warehouse: deps.warehouse },
    await listCsvKeys(deps.store, 'batch/'),
    { runId },
  );
  const project = await loadProject(TRANSFORMS_DIR);
  for (const model of planRun(project))
    await buildModel(deps.warehouse, project, model, { runId, businessDate: opts.to });
}

/**
 * One poll as the market session makes it, through the direct sink (BUS=direct): the simulator's
 * 5-minute bars in [from, to) for the symbols, written to the object store and the warehouse.
 */
export async function pollDirect(
  deps: { store: ObjectStore; warehouse: Warehouse },
  opts: { symbols: string[]; from: string; to: string },
): Promise<number> {
  const bars = await new SimulatorSource().fetchBars({
    symbols: opts.symbols,
    interval: '5m',
    from: new Date(opts.from),
    to: new Date(opts.to),
  });
  const publisher = createDirectPublisher({
    sink: createBarSink({ store: deps.store, warehouse: deps.warehouse }),
    store: deps.store,
  });
  return publisher.publish(bars);
}
