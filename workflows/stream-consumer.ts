import { continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { StreamActivities } from '../activities/stream.js';
import type { ConsumeProgress } from '../lib/stream/consumer.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';
import { alert } from './alerting.js';
import { tagRun } from './business-date.js';

export interface StreamConsumerInput {
  /** Kafka consumer group (default `egx-sinks`): offsets, and so progress, belong to it. */
  groupId?: string;
  /** Length of one consume round, in seconds (default 600). */
  roundSeconds?: number;
  /** Finish once the group has caught up and been idle this long (a replay of a topic); default: run until cancelled. */
  stopWhenIdleSeconds?: number;
  /** Task queue of the consumer activity (default `egx-stream`). */
  activityTaskQueue?: string;
  /** Carried across continue-as-new. */
  totals?: StreamTotals;
}

export interface StreamTotals {
  rounds: number;
  messages: number;
  bars: number;
  deadLettered: number;
  /** Lag at the end of the last round. */
  lag?: number;
}

export const streamProgressQuery = defineQuery<StreamTotals>('progress');

/**
 * Runs the sink consumer (Kafka → object store + warehouse) for as long as the workflow lives, as
 * a sequence of bounded rounds of one heartbeating activity on the `egx-stream` task queue. Totals
 * answer the `progress` query; the round in flight shows its own progress and lag as heartbeat
 * details. Continues as new when the history grows.
 */
export async function streamConsumerWorkflow(input: StreamConsumerInput = {}): Promise<StreamTotals> {
  tagRun('stream-consumer');
  const roundSeconds = input.roundSeconds ?? 600;
  const act = proxyActivities<StreamActivities>({
    taskQueue: input.activityTaskQueue ?? TASK_QUEUES.stream,
    startToCloseTimeout: (roundSeconds + 120) * 1000,
    // A dead worker stops heartbeating: the round is retried on another one from the committed offsets.
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
  });
  const totals: StreamTotals = input.totals ?? { rounds: 0, messages: 0, bars: 0, deadLettered: 0 };
  setHandler(streamProgressQuery, () => totals);

  for (;;) {
    const r: ConsumeProgress = await act.consumeMarketData({
      groupId: input.groupId ?? 'egx-sinks',
      roundSeconds,
      stopWhenIdleSeconds: input.stopWhenIdleSeconds,
    });
    totals.rounds++;
    totals.messages += r.messages;
    totals.bars += r.bars;
    totals.deadLettered += r.deadLettered;
    totals.lag = r.lag;
    if (r.deadLettered > 0) {
      await alert({
        title: `${r.deadLettered} market-data message(s) dead-lettered`,
        where: `stream consumer ${workflowInfo().workflowId}, consumer group ${input.groupId ?? 'egx-sinks'}`,
        error:
          "messages that could not be decoded or validated went to the dead-letter topic; the reason is in each message's x-dlq-reason header",
        key: 'stream:dlq',
      });
    }
    if (input.stopWhenIdleSeconds !== undefined && r.lag === 0) return totals;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof streamConsumerWorkflow>({ ...input, totals });
    }
  }
}
