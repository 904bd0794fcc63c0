import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { LocalObjectStore } from '../../lib/lake/local.js';
import { objectStoreContract } from '../support/object-store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'egx-lake-'));
objectStoreContract('local directory', async () => new LocalObjectStore(root), { bigBytes: 3 * 1024 * 1024 });

test('keys cannot escape the store root', async () => {
  const store = new LocalObjectStore(root);
  await expect(store.put('../outside.csv', 'x')).rejects.toThrow(/points outside the store/);
});
