import { afterAll } from 'vitest';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { warehouseContract } from '../support/warehouse-contract.js';

let wh: DuckDbWarehouse | undefined;
afterAll(async () => wh?.close());

warehouseContract('DuckDB', async () => (wh ??= await openDuckDbWarehouse(':memory:')));
