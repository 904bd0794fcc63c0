import { TestWorkflowEnvironment } from '@temporalio/testing';

type CreateOptions = {
  supportsTimeSkipping: boolean;
  server: { type: 'existing' };
  address: string;
  namespace?: string;
};

/**
 * A TestWorkflowEnvironment on the time-skipping server the global setup started. The SDK's
 * public factories either spawn their own server (and wait at most 5 s for it) or assume a server
 * without time skipping; the internal factory they share accepts an existing time-skipping one.
 */
export async function timeSkippingEnv(address: string): Promise<TestWorkflowEnvironment> {
  const factory = TestWorkflowEnvironment as unknown as {
    create(o: CreateOptions): Promise<TestWorkflowEnvironment>;
  };
  return factory.create({ supportsTimeSkipping: true, server: { type: 'existing' }, address });
}
