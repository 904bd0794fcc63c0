/**
 * A sink consumer in its own process, for kill tests. Env: BROKERS, TOPIC, GROUP, LAKE_DIR,
 * DUCKDB_PATH, HANG_AFTER_BATCHES. After that many committed batches, the next batch's archive
 * writes hang (its warehouse write goes through, its offset is never committed) and the process
 * prints "MID-BATCH" so the test can kill it there.
 */
import { createKafka } from '../../lib/bus/kafka.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { consumeBars } from '../../lib/stream/consumer.js';
import { createBarSink } from '../../lib/stream/sink.js';
import { openDuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { bootstrapWarehouse } from '../../lib/warehouse/schema.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`consume-child: ${name} is not set`);
  return v;
};
const hangAfter = Number(env('HANG_AFTER_BATCHES'));
const store = new LocalObjectStore(env('LAKE_DIR'));
let batches = 0;
let hanging = false;
const put = store.put.bind(store);
store.put = async (key: string, body: Parameters<typeof put>[1]) => {
  if (batches >= hangAfter) {
    await put(key, body); // some files of the batch land…
    if (!hanging) {
      hanging = true;
      process.stdout.write('MID-BATCH\n');
    }
    await new Promise(() => undefined); // …and the batch never finishes.
  }
  return put(key, body);
};
const wh = await openDuckDbWarehouse(env('DUCKDB_PATH'));
await bootstrapWarehouse(wh);
await consumeBars({
  kafka: createKafka({ brokers: [env('BROKERS')] }, { clientId: 'egx-kill-test' }),
  topic: env('TOPIC'),
  groupId: env('GROUP'),
  sink: createBarSink({ store, warehouse: wh, fileConcurrency: 1 }),
  maxBytesPerPartition: 64 * 1024,
  // The broker's minimum: the restarted consumer's group need not wait long for this one to be declared dead.
  sessionTimeoutMs: 6000,
  onProgress: (p) => (batches = p.batches),
});
