import { inject } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { createS3Client, ensureBucket, S3ObjectStore } from '../../lib/lake/s3.js';
import { objectStoreContract } from '../support/object-store-contract.js';

let store: S3ObjectStore | undefined;

objectStoreContract('S3 (versitygw)', async () => {
  if (!store) {
    const config = loadConfig(inject('stackEnv'));
    const client = createS3Client(config.s3);
    await ensureBucket(client, 'egx-contract-tests');
    // Small pages and the minimum part size, so paging and multipart uploads really happen.
    store = new S3ObjectStore(client, 'egx-contract-tests', { pageSize: 2, partSize: 5 * 1024 * 1024 });
  }
  return store;
});
