import { readFile } from 'node:fs/promises';
import type { AppConfig } from './config.js';
import { LocalObjectStore } from './lake/local.js';
import { createS3Client, ensureBucket, S3ObjectStore } from './lake/s3.js';
import type { ObjectStore } from './lake/types.js';
import { ReplaySource } from './sources/replay.js';
import { SimulatorSource } from './sources/simulator.js';
import { TradingViewSource } from './sources/tradingview/client.js';
import type { MarketSource } from './sources/types.js';
import { openDuckDbWarehouse } from './warehouse/duckdb.js';
import { bootstrapWarehouse } from './warehouse/schema.js';
import type { Warehouse } from './warehouse/types.js';

/** The configured object store; the S3 bucket is created when missing. */
export async function openObjectStore(config: AppConfig): Promise<ObjectStore> {
  if (config.objectStore.kind === 'local') return new LocalObjectStore(config.objectStore.dir);
  const client = createS3Client(config.s3);
  await ensureBucket(client, config.s3.bucket);
  return new S3ObjectStore(client, config.s3.bucket);
}

/** The configured warehouse, with its schemas and tables created (idempotent). */
export async function openWarehouse(config: AppConfig): Promise<Warehouse> {
  const sf = config.warehouse.snowflake;
  let wh: Warehouse;
  if (config.warehouse.kind === 'snowflake' && sf) {
    const { privateKeyPath, ...rest } = sf;
    // Loaded only when used: the Snowflake driver is large and pulls in the AWS SDK.
    const { createSnowflakeWarehouse } = await import('./warehouse/snowflake.js');
    wh = await createSnowflakeWarehouse({
      ...rest,
      privateKey: privateKeyPath ? await readFile(privateKeyPath, 'utf8') : undefined,
    });
  } else {
    wh = await openDuckDbWarehouse(config.warehouse.duckdbPath);
  }
  await bootstrapWarehouse(wh);
  return wh;
}

/** The configured market source: the simulator (default), TradingView, or a replay of recorded bars. */
export function openMarketSource(config: AppConfig, store: ObjectStore): MarketSource {
  const m = config.market;
  if (m.source === 'tradingview') {
    return new TradingViewSource(m.tradingViewUrl ? { url: m.tradingViewUrl } : {});
  }
  if (m.source === 'replay') {
    return new ReplaySource({
      store: m.replay.dir ? new LocalObjectStore(m.replay.dir) : store,
      prefix: m.replay.dir ? '' : m.replay.prefix,
      speed: m.replay.speed,
    });
  }
  return new SimulatorSource();
}
