import type { Kafka, KafkaMessage } from 'kafkajs';
import { groupLag } from '../bus/kafka.js';
import { decodeBar } from '../bus/message.js';
import type { BarSink, SinkEntry } from './sink.js';

/** The dead-letter topic of a topic: `<topic>.dlq`. */
export const dlqTopicOf = (topic: string) => `${topic}.dlq`;

export interface ConsumeProgress {
  messages: number;
  bars: number;
  deadLettered: number;
  legacy: number;
  files: number;
  batches: number;
  /** Messages on the topic not yet committed by the group, summed over partitions (undefined until measured). */
  lag?: number;
  /** Next offset to read, per partition, as committed. */
  committed: Record<number, string>;
}

export interface ConsumeOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  sink: BarSink;
  /** Default `<topic>.dlq`. */
  dlqTopic?: string;
  /** Stops consuming (cleanly, after the batch in hand is committed) when aborted. */
  signal?: AbortSignal;
  /** Stops once the group has caught up and no message arrived for this long. */
  stopWhenIdleMs?: number;
  /** Called after every committed batch and every lag measurement. */
  onProgress?: (p: ConsumeProgress) => void;
  /** How often lag is measured (default 1 s). */
  lagEveryMs?: number;
  maxBytesPerPartition?: number;
  /** A member silent this long is dropped from the group and its partitions reassigned (default 30 s). */
  sessionTimeoutMs?: number;
}

/**
 * Consumes bar messages in batches: each batch is decoded, poison messages go to the dead-letter
 * topic with the reason in headers, good bars go through the sink (object store + warehouse), and
 * only then is the batch's offset committed. A failure anywhere stops the consumer without
 * committing, and the promise rejects: the next run resumes at the last committed offset and,
 * because the sinks are idempotent, nothing is lost or duplicated.
 */
export async function consumeBars(opts: ConsumeOptions): Promise<ConsumeProgress> {
  const { kafka, topic, groupId, sink } = opts;
  const dlqTopic = opts.dlqTopic ?? dlqTopicOf(topic);
  const progress: ConsumeProgress = {
    messages: 0,
    bars: 0,
    deadLettered: 0,
    legacy: 0,
    files: 0,
    batches: 0,
    committed: {},
  };

  const admin = kafka.admin();
  await admin.connect();
  // The consumer may start before anything was published: it creates the topics it needs.
  const existing = new Set(await admin.listTopics());
  const missing = [
    ...(existing.has(topic) ? [] : [{ topic, numPartitions: 3 }]),
    ...(existing.has(dlqTopic) ? [] : [{ topic: dlqTopic }]),
  ];
  if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
  const dlq = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 250,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
    // Failures stop this consumer; the caller (a Temporal activity) decides about retrying.
    retry: { retries: 2, restartOnFailure: () => Promise.resolve(false) },
  });

  let lastMessageAt = Date.now();
  let stop!: (e?: Error) => void;
  const stopped = new Promise<void>((resolve, reject) => {
    stop = (e) => (e ? reject(e) : resolve());
  });
  stopped.catch(() => undefined);

  const onAbort = () => stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop();

  const measureLag = async () => {
    const lag = await groupLag(admin, groupId, topic);
    progress.lag = lag;
    opts.onProgress?.(progress);
    if (opts.stopWhenIdleMs !== undefined && lag === 0 && Date.now() - lastMessageAt >= opts.stopWhenIdleMs) {
      stop();
    }
  };
  let measuring = false;
  const lagTimer = setInterval(() => {
    if (measuring) return;
    measuring = true;
    measureLag()
      .catch(() => undefined)
      .finally(() => (measuring = false));
  }, opts.lagEveryMs ?? 1000);

  try {
    await dlq.connect();
    await consumer.connect();
    consumer.on(consumer.events.CRASH, (e) => stop(e.payload.error));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
        lastMessageAt = Date.now();
        const good: SinkEntry[] = [];
        const poison: { message: KafkaMessage; reason: string }[] = [];
        for (const message of batch.messages) {
          const d = decodeBar(message.value);
          if (d.ok) {
            good.push({ offset: message.offset, bar: d.bar });
            if (d.legacy) progress.legacy++;
          } else poison.push({ message, reason: d.reason });
        }
        if (poison.length > 0) {
          await dlq.send({
            topic: dlqTopic,
            acks: -1,
            messages: poison.map(({ message, reason }) => ({
              key: message.key,
              value: message.value,
              headers: {
                'x-dlq-reason': reason,
                'x-source-topic': topic,
                'x-source-partition': String(batch.partition),
                'x-source-offset': message.offset,
              },
            })),
          });
        }
        const written = await sink.write({ origin: `${topic}-${batch.partition}`, entries: good });
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
        payload.resolveOffset(batch.lastOffset());
        progress.messages += batch.messages.length;
        progress.bars += written.bars;
        progress.files += written.files;
        progress.deadLettered += poison.length;
        progress.batches++;
        progress.committed[batch.partition] = next;
        opts.onProgress?.(progress);
        await payload.heartbeat();
      },
    });
    await stopped;
    await measureLag().catch(() => undefined);
    return progress;
  } finally {
    clearInterval(lagTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
    await dlq.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
