import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import { withTimeout } from '../util/timeout.js';
import { encodeBar, type BarMessage } from './message.js';

export interface KafkaSettings {
  brokers: string[];
}

/**
 * A kafkajs client. `failFast` is for probes: one quick retry instead of kafkajs' default of
 * several minutes of back-off, so a stopped broker is reported in seconds.
 */
export function createKafka(cfg: KafkaSettings, opts: { clientId: string; failFast?: boolean }): Kafka {
  return new Kafka({
    clientId: opts.clientId,
    brokers: cfg.brokers,
    connectionTimeout: 3000,
    logLevel: opts.failFast ? logLevel.NOTHING : logLevel.ERROR,
    ...(opts.failFast ? { retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 } } : {}),
  });
}

/**
 * Produces one unique message to `topic` (created if missing) and consumes it back from the
 * offset the broker acknowledged. Resolves with where it was read; throws when any step fails.
 */
export async function kafkaRoundTrip(
  kafka: Kafka,
  topic: string,
  timeoutMs = 20_000,
): Promise<{ partition: number; offset: string }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Returns false (no error) when the topic exists already.
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }

  const token = randomUUID();
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  let sent: { partition: number; baseOffset?: string } | undefined;
  try {
    [sent] = await producer.send({ topic, acks: -1, messages: [{ key: 'health', value: token }] });
  } finally {
    await producer.disconnect();
  }
  if (!sent?.baseOffset) throw new Error(`broker acknowledged the message to ${topic} without an offset`);
  const at = { partition: sent.partition, offset: sent.baseOffset };

  const consumer = kafka.consumer({
    groupId: `egx-health-${token}`,
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    let received!: () => void;
    const got = new Promise<void>((resolve) => (received = resolve));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.value?.toString() === token) received();
      },
    });
    consumer.seek({ topic, partition: at.partition, offset: at.offset });
    await withTimeout(
      got,
      timeoutMs,
      `message produced to ${topic} at offset ${at.offset} was not consumed back`,
    );
  } finally {
    await consumer.disconnect();
  }
  return at;
}

/**
 * Publishes bars to a topic with an idempotent producer (acks from all in-sync replicas, key =
 * symbol). Connects on first use, so a worker starts even while the broker is down.
 */
export function createKafkaPublisher(kafka: Kafka, topic: string) {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  let connected: Promise<void> | undefined;
  return {
    async publish(bars: BarMessage[]): Promise<number> {
      if (bars.length === 0) return 0;
      connected ??= producer.connect().catch((e: unknown) => {
        connected = undefined;
        throw e;
      });
      await connected;
      await producer.send({ topic, acks: -1, messages: bars.map(encodeBar) });
      return bars.length;
    },
    async close(): Promise<void> {
      if (connected) await producer.disconnect();
    },
  };
}

/** Messages on `topic` the consumer group has not committed yet, summed over partitions (0 for a missing topic). */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) return 0;
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const at = new Map(committed[0]?.partitions.map((p) => [p.partition, BigInt(p.offset)]) ?? []);
  let lag = 0n;
  for (const e of ends) {
    const done = at.get(e.partition) ?? -1n;
    // -1: nothing committed yet, so everything from the low watermark is still to read.
    lag += BigInt(e.high) - (done < 0n ? BigInt(e.low) : done);
  }
  return Number(lag);
}

/** Messages held by a topic (high minus low watermark over its partitions); 0 when it does not exist. */
export async function topicSize(admin: Admin, topic: string): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) return 0;
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
}
