import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, test } from 'vitest';
import { backfillKey, createBackfillActivities } from '../../activities/backfill.js';
import {
  backfillPriceKey,
  checkObjectKey,
  keyUnder,
  ObjectKeyInvalidError,
  priceKey,
} from '../../lib/lake/keys.js';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { S3ObjectStore } from '../../lib/lake/s3.js';
import { getText } from '../../lib/lake/types.js';
import { SymbolInvalidError } from '../../lib/market/symbol.js';
import { writeDailyHistory } from '../../lib/sources/history-files.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';
import type { MarketSource } from '../../lib/sources/types.js';
import type { Warehouse } from '../../lib/warehouse/types.js';
import { HOSTILE_SYMBOLS } from '../support/hostile.js';

const TRAVERSALS = [
  'batch/prices/backfill/2024-01-01/../../COMI.csv',
  '../outside.csv',
  'batch/./prices/COMI.csv',
  'batch/prices/backfill/2024-01-01/..%2F..%2FCOMI.csv',
  'batch/prices/backfill/%2e%2e/COMI.csv',
  'batch/prices/..\\COMI.csv',
  '/batch/prices/COMI.csv',
  'batch//prices/COMI.csv',
  'batch/prices/CO\u0000MI.csv',
  '',
];

describe('object keys', () => {
  test.each(TRAVERSALS)('%j is refused', (key) => {
    expect(() => checkObjectKey(key)).toThrow(ObjectKeyInvalidError);
  });

  test('the message names the key and the rule', () => {
    expect(() => checkObjectKey('batch/prices/backfill/2024-01-01/../../COMI.csv')).toThrow(
      'object key "batch/prices/backfill/2024-01-01/../../COMI.csv" is invalid: the part ".." points outside the store or its prefix (keys are "/"-separated names, without empty, "." or ".." parts, backslashes or control characters)',
    );
  });

  test('vendor names with spaces, plus signs, percent signs and Arabic are keys', () => {
    for (const key of [
      'batch/prices/T.Bond 7+yr.csv',
      'batch/ملف.csv',
      'batch/100%.csv',
      'a/.hidden',
      'a/...',
    ])
      expect(checkObjectKey(key)).toBe(key);
  });

  test('keys built from tickers stay under their prefix', () => {
    expect(priceKey('comi')).toBe('batch/prices/COMI.csv');
    expect(backfillPriceKey('2024-01-01', 'COMI')).toBe('batch/prices/backfill/2024-01-01/COMI.csv');
    expect(backfillKey('2024-01-01', 'ETEL')).toBe('batch/prices/backfill/2024-01-01/ETEL.csv');
    expect(() => keyUnder('batch/prices/backfill', '2024-01-01', '../../COMI.csv')).toThrow(
      /the name "\.\.\/\.\.\/COMI\.csv" has a "\/"/,
    );
    expect(() => keyUnder('batch/prices', '..')).toThrow(ObjectKeyInvalidError);
    expect(() => backfillPriceKey('2024-01-01/../..', 'COMI')).toThrow(
      /backfill from: .* is not a valid date/,
    );
    expect(() => backfillPriceKey('2024-02-30', 'COMI')).toThrow(/There is no day 30 in February 2024/);
  });

  test.each(HOSTILE_SYMBOLS)(
    'backfill key for %j: refused, never a key outside batch/prices/backfill/',
    (bad, why) => {
      expect(() => backfillKey('2024-01-01', bad)).toThrow(SymbolInvalidError);
      expect(() => backfillKey('2024-01-01', bad)).toThrow(why);
    },
  );
});

describe('both object stores refuse traversal whatever built the key', () => {
  test.each(TRAVERSALS)('local store: %j', async (key) => {
    const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-keys-')));
    await expect(store.put(key, 'x')).rejects.toThrow(ObjectKeyInvalidError);
    await expect(store.get(key)).rejects.toThrow(ObjectKeyInvalidError);
    await expect(store.head(key)).rejects.toThrow(ObjectKeyInvalidError);
    await expect(store.delete(key)).rejects.toThrow(ObjectKeyInvalidError);
  });

  test.each(TRAVERSALS)('S3 store: %j is refused before any request', async (key) => {
    const sent: unknown[] = [];
    const client = { send: async (c: unknown) => void sent.push(c) } as unknown as S3Client;
    const store = new S3ObjectStore(client, 'egx-data-bucket');
    await expect(store.put(key, 'x')).rejects.toThrow(ObjectKeyInvalidError);
    await expect(store.get(key)).rejects.toThrow(ObjectKeyInvalidError);
    await expect(store.head(key)).rejects.toThrow(ObjectKeyInvalidError);
    await expect(store.delete(key)).rejects.toThrow(ObjectKeyInvalidError);
    expect(sent).toEqual([]);
  });
});

describe('backfill: `--symbols ../../COMI` cannot overwrite batch/prices/COMI.csv', () => {
  const setUp = async () => {
    const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'egx-backfill-keys-')));
    await store.put('batch/prices/COMI.csv', 'the real history\n');
    const sim = new SimulatorSource(5);
    const fetched: string[][] = [];
    const source: MarketSource = {
      name: 'spy',
      latestQuote: (symbol) => sim.latestQuote(symbol),
      fetchBars: async (req) => {
        fetched.push(req.symbols);
        return sim.fetchBars(req);
      },
    };
    return { store, source, fetched };
  };

  test.each(HOSTILE_SYMBOLS)(
    'the backfill activity refuses %j as BadInput before fetching or writing',
    async (bad) => {
      const { store, source, fetched } = await setUp();
      const acts = createBackfillActivities({ source, store, warehouse: {} as Warehouse });
      const err = await acts
        .backfillBars({ symbols: ['ETEL', bad], from: '2024-01-01', to: '2024-01-31' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'BadInput', nonRetryable: true });
      expect((err as Error).message).toMatch(/^backfill chunk: .* is not an EGX ticker/);
      expect(fetched).toEqual([]);
      expect(await getText(store, 'batch/prices/COMI.csv')).toBe('the real history\n');
      const keys: string[] = [];
      for await (const o of store.list('')) keys.push(o.key);
      expect(keys).toEqual(['batch/prices/COMI.csv']);
    },
  );

  test('an impossible chunk date is BadInput too', async () => {
    const { store, source } = await setUp();
    const acts = createBackfillActivities({ source, store, warehouse: {} as Warehouse });
    await expect(
      acts.backfillBars({ symbols: ['COMI'], from: '2026-02-30', to: '2026-03-05' }),
    ).rejects.toMatchObject({ type: 'BadInput', message: expect.stringContaining('There is no day 30') });
  });

  test('the history writer checks every ticker first and every key it builds', async () => {
    const { store, source, fetched } = await setUp();
    const base = { source, store, from: '2024-01-01', to: '2024-01-10' };
    await expect(
      writeDailyHistory({
        ...base,
        symbols: ['ETEL', '../../COMI'],
        keyOf: (s) => `batch/prices/backfill/x/${s}.csv`,
      }),
    ).rejects.toThrow(SymbolInvalidError);
    expect(fetched).toEqual([]);
    // A key function that would step out is stopped by the key check, even for a good ticker.
    await expect(
      writeDailyHistory({ ...base, symbols: ['COMI'], keyOf: (s) => `batch/prices/backfill/../${s}.csv` }),
    ).rejects.toThrow(ObjectKeyInvalidError);
    expect(await getText(store, 'batch/prices/COMI.csv')).toBe('the real history\n');
  });
});
