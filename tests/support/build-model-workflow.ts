import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { TransformActivities } from '../../activities/transforms.js';

// As the transforms workflow calls it, but a cancelled run ends only once the activity has stopped,
// so a test can time how long a cancellation takes to stop a build.
const { buildTransformModel } = proxyActivities<TransformActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** Builds one model as its own activity. */
export async function buildModelWorkflow(model: string): Promise<void> {
  await buildTransformModel({ model, runId: `build-${model}`, businessDate: '2024-06-23' });
}
