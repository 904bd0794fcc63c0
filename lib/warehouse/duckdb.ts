import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** Opens (creating if needed) the DuckDB file, runs `work`, and closes it again. ':memory:' is allowed. */
export async function withDuckDb<T>(
  path: string,
  work: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>,
): Promise<T> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    return await work(async (sql) => (await connection.runAndReadAll(sql)).getRows());
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Opens the warehouse and runs a query; resolves with the DuckDB version. */
export async function duckdbPing(path: string): Promise<string> {
  return withDuckDb(path, async (run) => {
    const rows = await run('select version(), 6 * 7');
    const [version, answer] = rows[0] ?? [];
    if (Number(answer) !== 42) throw new Error(`DuckDB at ${path} answered ${String(answer)} to 6 * 7`);
    return String(version);
  });
}
