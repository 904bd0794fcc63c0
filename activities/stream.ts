import { Context } from '@temporalio/activity';
import type { Kafka } from 'kafkajs';
import { activityMetrics } from './metrics.js';
import { consumeBars, type ConsumeProgress } from '../lib/stream/consumer.js';
import type { BarSink } from '../lib/stream/sink.js';

export interface ConsumeRoundInput {
  groupId: string;
  /** The round ends after this long (the workflow starts the next one). */
  roundSeconds: number;
  /** End the round early once the group has caught up and nothing arrived for this long. */
  stopWhenIdleSeconds?: number;
}

/**
 * The consumer as a long-running activity on its own task queue: one round consumes until its
 * time is up, heartbeating progress and lag (shown on the pending activity in the Web UI). A dead
 * worker misses heartbeats, so Temporal runs the round again elsewhere, from the committed offsets.
 */
export function createStreamActivities(deps: { kafka: Kafka; topic: string; sink: BarSink }) {
  return {
    async consumeMarketData(input: ConsumeRoundInput): Promise<ConsumeProgress> {
      const ctx = Context.current();
      const metrics = activityMetrics(() => ctx);
      const seen = { messages: 0, deadLettered: 0 };
      const round = new AbortController();
      const timer = setTimeout(() => round.abort(), input.roundSeconds * 1000);
      const signal = AbortSignal.any([round.signal, ctx.cancellationSignal]);
      try {
        const progress = await consumeBars({
          kafka: deps.kafka,
          topic: deps.topic,
          groupId: input.groupId,
          sink: deps.sink,
          signal,
          stopWhenIdleMs:
            input.stopWhenIdleSeconds === undefined ? undefined : input.stopWhenIdleSeconds * 1000,
          onProgress: (p) => {
            ctx.heartbeat(p);
            metrics.messagesConsumed.add(p.messages - seen.messages);
            metrics.deadLettered.add(p.deadLettered - seen.deadLettered);
            seen.messages = p.messages;
            seen.deadLettered = p.deadLettered;
            if (p.lag !== undefined) metrics.consumerLag.set(p.lag);
          },
        });
        // Cancelled from the Web UI or by the workflow: report it as such, after a clean stop.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        return progress;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export type StreamActivities = ReturnType<typeof createStreamActivities>;
