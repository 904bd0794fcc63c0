import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type LogEntry as KafkaLogEntry } from 'kafkajs';
import { textLogLine, type LogLevel, type LogSink } from '../logging.js';
import { withTimeout } from '../util/timeout.js';
import { encodeBar, type BarMessage } from './message.js';

export interface KafkaSettings {
  brokers: string[];
}

/** Until a process routes them (workers/runtime.ts), the client's warnings go to stderr as one text line each. */
let sink: LogSink = (level, message, meta) => {
  if (level === 'WARN' || level === 'ERROR')
    process.stderr.write(
      textLogLine({ level, message, meta, timestampNanos: BigInt(Date.now()) * 1_000_000n }) + '\n',
    );
};

/** The client's own level: errors and warnings, unless the process logs debug lines (kafkajs info) or traces (kafkajs debug). */
let clientLevel: logLevel = logLevel.WARN;

/** Sends the log lines of Kafka clients created from now on to the process's logger, at its level. */
export function routeKafkaLogs(to: LogSink, level: LogLevel = 'INFO'): void {
  sink = to;
  clientLevel = level === 'TRACE' ? logLevel.DEBUG : level === 'DEBUG' ? logLevel.INFO : logLevel.WARN;
}

// Conditions the client retries on its own, common while a broker or a new topic is starting up;
// if they last, the caller's own call fails and says so.
const TRANSIENT =
  /coordinator is (not available|loading)|not the coordinator|leader(ship)? (not available|election)|no leader|does not host this topic-partition|rebalanc|not aware of this member/i;
// Notices about the client itself, not about the data or the broker (v2's new default partitioner).
const NOTICE = /switched default partitioner/i;
// Our own batch handler's error and the consumer's crash on it: the consuming activity fails with
// the same error and logs that once, as its retry line.
const SURFACED = /^Error when calling each(Batch|Message)|^Crash: /;

/**
 * The project's level for one of the Kafka client's entries: its errors are mostly retried inside
 * the client (a warning; a transient start-up condition only a debug line), its info lines are
 * chatter about connections and group joins (debug).
 */
export function kafkaLogLevel(level: logLevel, message: string, error?: unknown): LogLevel {
  if (level === logLevel.ERROR || level === logLevel.WARN)
    return TRANSIENT.test(`${message} ${typeof error === 'string' ? error : ''}`) ||
      NOTICE.test(message) ||
      SURFACED.test(message)
      ? 'DEBUG'
      : 'WARN';
  return level === logLevel.INFO ? 'DEBUG' : 'TRACE';
}

/** kafkajs' logCreator: one entry of the client becomes one line of the project's logger. */
const logCreator = () => (entry: KafkaLogEntry) => {
  const { message, ...rest }: Record<string, unknown> & { message: string } = entry.log;
  delete rest.timestamp;
  delete rest.logger;
  // One line per entry: the stack is kafkajs' own, the message says what failed.
  delete rest.stack;
  sink(
    kafkaLogLevel(entry.level, message, rest.error),
    `kafka${entry.namespace ? ` ${entry.namespace}` : ''}: ${message}`,
    rest,
  );
};

/**
 * A kafkajs client. `failFast` is for probes: one quick retry instead of kafkajs' default of
 * several minutes of back-off, so a stopped broker is reported in seconds.
 */
export function createKafka(cfg: KafkaSettings, opts: { clientId: string; failFast?: boolean }): Kafka {
  return new Kafka({
    clientId: opts.clientId,
    brokers: cfg.brokers,
    connectionTimeout: 3000,
    logLevel: opts.failFast ? logLevel.NOTHING : clientLevel,
    logCreator,
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
