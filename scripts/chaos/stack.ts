/**
 * The chaos profile's servers (Temporal dev server with its database file, Kafka, the S3 server):
 * a fresh start for each suite run, and the stops and restarts the faults need. Only the chaos
 * profile is touched, never the shared dev or test servers.
 */
import { rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { Kafka, logLevel } from 'kafkajs';
import { groupLag, topicSize } from '../../lib/bus/kafka.js';
import { createS3Client, ensureBucket } from '../../lib/lake/s3.js';
import { ensureSearchAttributes } from '../../temporal-config/search-attributes.js';
import { paths, PROFILES, stackEnv, type ComponentName } from '../devstack/profile.js';
import { down, install, status, up } from '../devstack/stack.js';

export const profile = PROFILES.chaos;
export const COMPONENTS: ComponentName[] = ['temporal', 'kafka', 's3'];
export const TEMPORAL_ADDRESS = `127.0.0.1:${profile.ports.temporal}`;
export const KAFKA_BROKER = `127.0.0.1:${profile.ports.kafka}`;

const quiet = () => undefined;

/**
 * Installs (cached) and starts the chaos servers with empty data directories: all of them, or
 * without Kafka when nothing streams (the daily batch then reports streaming down and goes on).
 */
export async function freshStack(log: (line: string) => void, withKafka: boolean): Promise<void> {
  await install(profile, log, COMPONENTS);
  await down(profile, quiet, COMPONENTS);
  for (const c of COMPONENTS) rmSync(paths(profile, c).dataDir, { recursive: true, force: true });
  await up(
    profile,
    log,
    COMPONENTS.filter((c) => withKafka || c !== 'kafka'),
  );
}

export async function stopStack(log: (line: string) => void): Promise<void> {
  await down(profile, log, COMPONENTS);
}

/** Stops one server (the fault); its data stays. */
export async function stopComponent(name: ComponentName): Promise<void> {
  await down(profile, quiet, [name]);
}

/** Starts one server again and waits until it really serves; returns the seconds it took. */
export async function startComponent(name: ComponentName): Promise<number> {
  const t0 = Date.now();
  await up(profile, quiet, [name]);
  return (Date.now() - t0) / 1000;
}

/**
 * Freezes (SIGSTOP) or thaws (SIGCONT) a server's process group: it keeps its connections and
 * state but answers nothing, as a server stalled on a full disk or a long pause would.
 */
export function freezeComponent(name: ComponentName, frozen: boolean): void {
  const pid = status(profile, [name])[0]?.pid;
  if (!pid) throw new Error(`${name} is not running`);
  process.kill(-pid, frozen ? 'SIGSTOP' : 'SIGCONT');
}

/** Environment that points a worker at the chaos servers. */
export function chaosServerEnv(): Record<string, string> {
  return stackEnv(profile);
}

export async function connectTemporal(): Promise<Connection> {
  return Connection.connect({ address: TEMPORAL_ADDRESS, connectTimeout: 5000 });
}

/**
 * One namespace per scenario, so that every scenario (and its reference run) uses the real
 * business-key workflow IDs without meeting the others' runs. Waits until the namespace serves.
 */
export async function createNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('3 days'),
    });
  } catch (e) {
    if ((e as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw e;
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await ensureSearchAttributes(connection, namespace);
      const client = new Client({ connection, namespace });
      await client.workflow.count();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export function chaosKafka(): Kafka {
  return new Kafka({
    clientId: 'egx-chaos',
    brokers: [KAFKA_BROKER],
    connectionTimeout: 3000,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
  });
}

export async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Messages of `topic` the group has not committed; undefined while the broker does not answer. */
export async function consumerLag(kafka: Kafka, groupId: string, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await groupLag(admin, groupId, topic);
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Messages `topic` holds; undefined while the broker does not answer. */
export async function topicMessages(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await topicSize(admin, topic);
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export function chaosS3() {
  const env = chaosServerEnv();
  return createS3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.AWS_REGION!,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
}

export { ensureBucket };
