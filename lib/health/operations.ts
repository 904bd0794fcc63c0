import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createKafka, groupLag, topicSize } from '../bus/kafka.js';
import type { AppConfig } from '../config.js';
import { dlqTopicOf } from '../stream/consumer.js';
import { influxPing } from '../stream/influx.js';
import type { Warehouse } from '../warehouse/types.js';

/** The sink consumer's group: its committed offsets are how far the warehouse has caught up. */
export const SINK_GROUP = 'egx-sinks';

/** A check that found trouble: the message says what and how much. */
export class HealthProblem extends Error {}

const GiB = 1024 ** 3;

/**
 * Observations of the running pipeline (the checks that read, never write): how far the sink
 * consumer lags, what the dead-letter topic holds, how fresh the prices are, whether the live
 * view (InfluxDB, when configured) answers, and disk space.
 * Each resolves with what it saw, or throws HealthProblem saying what is wrong.
 */
export function operationalProbes(
  config: AppConfig,
  deps: {
    warehouse: () => Promise<Warehouse>;
    now?: () => Date;
    /** Receives the numbers behind the lag and dead-letter observations (for metrics). */
    onReading?: (name: 'consumerLag' | 'dlqMessages', value: number) => void;
  },
  limits = { maxLag: 50_000, maxStaleDays: 7, minFreeBytes: GiB },
) {
  const withAdmin = async <T>(
    work: (admin: ReturnType<ReturnType<typeof createKafka>['admin']>) => Promise<T>,
  ) => {
    const admin = createKafka(config.kafka, { clientId: 'egx-health', failFast: true }).admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  };
  return {
    consumerLag: () =>
      config.bus === 'direct'
        ? Promise.resolve('not used: BUS=direct, no consumer')
        : withAdmin(async (admin) => {
            const lag = await groupLag(admin, SINK_GROUP, config.kafka.topic);
            deps.onReading?.('consumerLag', lag);
            if (lag > limits.maxLag)
              throw new HealthProblem(
                `consumer group ${SINK_GROUP} is ${lag} messages behind on ${config.kafka.topic} (limit ${limits.maxLag})`,
              );
            return `consumer group ${SINK_GROUP} is ${lag} message(s) behind on ${config.kafka.topic}`;
          }),
    dlq: () =>
      config.bus === 'direct'
        ? Promise.resolve('not used: BUS=direct, bad bars are quarantined under quarantine/stream-direct/')
        : withAdmin(async (admin) => {
            const topic = dlqTopicOf(config.kafka.topic);
            const n = await topicSize(admin, topic);
            deps.onReading?.('dlqMessages', n);
            return n === 0
              ? `${topic} is empty`
              : `${topic} holds ${n} message(s); each says why in its x-dlq-reason header`;
          }),
    freshness: async () => {
      const wh = await deps.warehouse();
      const [row] = await wh.query<{ NEWEST: string | null; N: number }>(
        'SELECT CAST(MAX(TRADE_DATE) AS VARCHAR) AS NEWEST, COUNT(*) AS N FROM OPERATIONAL.TBL_STOCK_PRICE',
      );
      if (!row?.NEWEST) return 'no prices loaded yet';
      const now = (deps.now ?? (() => new Date()))();
      const days = Math.floor((now.getTime() - Date.parse(`${row.NEWEST}T00:00:00Z`)) / 86_400_000);
      if (days > limits.maxStaleDays)
        throw new HealthProblem(
          `newest price is from ${row.NEWEST}, ${days} days ago (limit ${limits.maxStaleDays})`,
        );
      return `newest price is from ${row.NEWEST} (${days} day(s) ago), ${row.N} daily rows`;
    },
    liveView: async () => {
      if (!config.live) return 'not used: INFLUX_URL is unset';
      const version = await influxPing(config.live.influxUrl).catch((e: Error) => {
        throw new HealthProblem(e.message);
      });
      return `InfluxDB ${version} answered ${config.live.influxUrl.replace(/\/+$/, '')}/ping`;
    },
    disk: async () => {
      const where =
        config.warehouse.kind === 'duckdb' ? dirname(resolve(config.warehouse.duckdbPath)) : resolve('.');
      const s = await statfs(where).catch(() => statfs(resolve('.')));
      const free = s.bavail * s.bsize;
      const text = `${(free / GiB).toFixed(1)} GiB free of ${((s.blocks * s.bsize) / GiB).toFixed(1)} GiB at ${where}`;
      if (free < limits.minFreeBytes) throw new HealthProblem(`only ${text}`);
      return text;
    },
  };
}
