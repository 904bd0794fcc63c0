import { expect, test } from 'vitest';
import { OperationTimeoutError, withTimeout } from '../../lib/util/timeout.js';

test('withTimeout passes a result through and rejects, naming the operation, when too slow', async () => {
  await expect(withTimeout(Promise.resolve(7), 100, 'fast')).resolves.toBe(7);
  const never = new Promise<never>(() => {});
  const err = await withTimeout(never, 20, 'message was not consumed back').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OperationTimeoutError);
  expect((err as Error).message).toBe('message was not consumed back within 20 ms');
});
