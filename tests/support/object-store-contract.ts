import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { getText, ObjectNotFoundError, type ObjectStore } from '../../lib/lake/types.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function sha256(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Uint8Array);
  return h.digest('hex');
}

/** The behaviour every ObjectStore must have; `make` returns a store (fresh or shared) for one test. */
export function objectStoreContract(
  name: string,
  make: () => Promise<ObjectStore>,
  opts: { bigBytes?: number } = {},
) {
  describe(`ObjectStore contract: ${name}`, () => {
    const base = () => `contract/${randomUUID()}`;

    test('put then get returns the same bytes, and head reports size and an etag that follows the content', async () => {
      const store = await make();
      const key = `${base()}/prices/COMI.csv`;
      await store.put(key, 'date,close\n2024-01-01,1\n');
      expect(await getText(store, key)).toBe('date,close\n2024-01-01,1\n');
      const first = await store.head(key);
      expect(first).toMatchObject({ key, size: 24 });
      await store.put(key, 'date,close\n2024-01-01,1\n');
      expect((await store.head(key))?.etag).toBe(first?.etag);
      await store.put(key, 'date,close\n2024-01-01,2\n');
      expect((await store.head(key))?.etag).not.toBe(first?.etag);
    });

    test('list returns exactly the keys under a prefix, in key order, across pages', async () => {
      const store = await make();
      const root = base();
      const keys = ['b/2.csv', 'a/1.csv', 'a/3.csv', 'a/sub/4.csv', 'ab.csv'].map((k) => `${root}/${k}`);
      for (const k of keys) await store.put(k, k);
      await store.put(`${root}-other/x.csv`, 'x');
      const listed = await collect(store.list(`${root}/a`));
      expect(listed.map((o) => o.key)).toEqual([
        `${root}/a/1.csv`,
        `${root}/a/3.csv`,
        `${root}/a/sub/4.csv`,
        `${root}/ab.csv`,
      ]);
      expect((await collect(store.list(`${root}/`))).length).toBe(5);
    });

    test('keys with spaces, plus signs and Arabic survive a round trip', async () => {
      const store = await make();
      const key = `${base()}/batch/prices/T.Bond 7+yr.csv`;
      await store.put(key, 'x');
      expect((await collect(store.list(key))).map((o) => o.key)).toEqual([key]);
      expect(await getText(store, key)).toBe('x');
      const arabic = `${base()}/ملف.csv`;
      await store.put(arabic, 'y');
      expect(await getText(store, arabic)).toBe('y');
    });

    test('a missing key: get throws ObjectNotFoundError naming it, head is undefined, delete is a no-op', async () => {
      const store = await make();
      const key = `${base()}/missing.csv`;
      const err = await store.get(key).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectNotFoundError);
      expect((err as Error).message).toContain(key);
      expect(await store.head(key)).toBeUndefined();
      await store.delete(key);
      await store.put(key, 'z');
      await store.delete(key);
      expect(await store.head(key)).toBeUndefined();
    });

    test('a large streamed body is stored intact', async () => {
      const store = await make();
      const key = `${base()}/big.bin`;
      const size = opts.bigBytes ?? 12 * 1024 * 1024;
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const make_ = () =>
        Readable.from(
          (function* () {
            for (let i = 0; i < size / chunk.length; i++) yield chunk;
          })(),
        );
      await store.put(key, make_());
      expect((await store.head(key))?.size).toBe(size);
      expect(await sha256(await store.get(key))).toBe(await sha256(make_()));
    });
  });
}
