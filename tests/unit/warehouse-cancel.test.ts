import { afterEach, beforeEach, expect, test } from 'vitest';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lib/warehouse/duckdb.js';
import { StatementCancelledError } from '../../lib/warehouse/types.js';

// Twenty billion rows: minutes of work for DuckDB, so only an interrupt ends it within seconds.
const SLOW = 'SELECT SUM(a.range * b.range) AS S FROM range(200000) a, range(100000) b';

let wh: DuckDbWarehouse;
beforeEach(async () => {
  wh = await openDuckDbWarehouse(':memory:', { threads: 2 });
});
afterEach(async () => wh.close());

/** How long `work` takes to settle, and how. */
async function timed<T>(work: Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const t0 = performance.now();
  try {
    const value = await work;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

const tableExists = async (name: string) =>
  (
    await wh.query<{ N: number }>(
      'SELECT COUNT(*) AS N FROM information_schema.tables WHERE UPPER(table_name) = ?',
      [name],
    )
  )[0]!.N > 0;

test('aborting a long write interrupts it at once; the write leaves nothing and the next statements run', async () => {
  const abort = new AbortController();
  const slow = timed(wh.execute(`CREATE TABLE MAIN.BIG AS ${SLOW}`, [], { signal: abort.signal }));
  // Queued behind the slow write: runs as soon as it is interrupted.
  const after = timed(wh.execute('CREATE TABLE MAIN.AFTER AS SELECT 42 AS V'));
  setTimeout(() => abort.abort(new Error('run cancelled')), 500);

  const r = await slow;
  expect(r.error).toBeInstanceOf(StatementCancelledError);
  expect((r.error as Error).message).toMatch(/^statement cancelled: CREATE TABLE MAIN\.BIG AS SELECT SUM/);
  expect(((r.error as Error).cause as Error).message).toBe('run cancelled');
  expect(r.ms).toBeLessThan(2500);
  expect((await after).error).toBeUndefined();

  expect(await tableExists('BIG')).toBe(false);
  expect(await wh.query('SELECT V FROM MAIN.AFTER')).toEqual([{ V: 42 }]);
  await wh.execute('INSERT INTO MAIN.AFTER VALUES (43)');
  expect(await wh.query('SELECT COUNT(*) AS N FROM MAIN.AFTER')).toEqual([{ N: 2 }]);
});

test('aborting a long read interrupts it; reads and writes go on', async () => {
  const abort = new AbortController();
  const slow = timed(wh.query(SLOW, [], { signal: abort.signal }));
  setTimeout(() => abort.abort(), 500);
  const r = await slow;
  expect(r.error).toBeInstanceOf(StatementCancelledError);
  expect(r.ms).toBeLessThan(2500);
  expect(await wh.query('SELECT 6 * 7 AS A')).toEqual([{ A: 42 }]);
});

test('a write still waiting for its turn gives up at once when aborted, and never runs', async () => {
  const first = new AbortController();
  const queued = new AbortController();
  const slow = timed(wh.execute(`CREATE TABLE MAIN.BIG AS ${SLOW}`, [], { signal: first.signal }));
  const waiting = timed(
    wh.execute('CREATE TABLE MAIN.QUEUED AS SELECT 1 AS V', [], { signal: queued.signal }),
  );
  setTimeout(() => queued.abort(), 300);
  const w = await waiting;
  expect(w.error).toBeInstanceOf(StatementCancelledError);
  expect(w.ms).toBeLessThan(1000);

  first.abort();
  expect((await slow).error).toBeInstanceOf(StatementCancelledError);
  await wh.execute('CREATE TABLE MAIN.LATER AS SELECT 1 AS V');
  expect(await tableExists('QUEUED')).toBe(false);
  expect(await tableExists('LATER')).toBe(true);
});

test('an already aborted signal runs nothing', async () => {
  const signal = AbortSignal.abort();
  await expect(wh.execute('CREATE TABLE MAIN.NEVER AS SELECT 1 AS V', [], { signal })).rejects.toThrow(
    StatementCancelledError,
  );
  await expect(wh.query('SELECT 1', [], { signal })).rejects.toThrow(/statement cancelled: SELECT 1/);
  expect(await tableExists('NEVER')).toBe(false);
});

test('serialized statements: an abort interrupts the running one and the rest do not run', async () => {
  const abort = new AbortController();
  const work = timed(
    wh.serialized(
      async (db) => {
        await db.execute('CREATE TABLE MAIN.FIRST AS SELECT 1 AS V');
        await db.execute(`CREATE TABLE MAIN.BIG AS ${SLOW}`);
        await db.execute('CREATE TABLE MAIN.THIRD AS SELECT 3 AS V');
      },
      { signal: abort.signal },
    ),
  );
  setTimeout(() => abort.abort(), 500);
  const r = await work;
  expect(r.error).toBeInstanceOf(StatementCancelledError);
  expect(r.ms).toBeLessThan(2500);
  expect(await tableExists('FIRST')).toBe(true);
  expect(await tableExists('BIG')).toBe(false);
  expect(await tableExists('THIRD')).toBe(false);
});
