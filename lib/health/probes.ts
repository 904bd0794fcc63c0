import type { AppConfig } from '../config.js';
import { createKafka, kafkaRoundTrip } from '../bus/kafka.js';
import { createS3Client, s3RoundTrip } from '../lake/s3.js';
import { duckdbPing } from '../warehouse/duckdb.js';

export const HEALTH_TOPIC = 'egx_health_scratch';
export const HEALTH_BUCKET = 'egx-health-scratch';

/**
 * The checks of everything outside Temporal. Each resolves with what it verified, or throws why not.
 * They write only to scratch places (a topic and a bucket of their own) and clean up after themselves.
 */
export function healthProbes(config: AppConfig) {
  return {
    kafka: async () => {
      if (config.bus === 'direct') return 'not used: BUS=direct, polls write straight to the sinks';
      const kafka = createKafka(config.kafka, { clientId: 'egx-health', failFast: true });
      const at = await kafkaRoundTrip(kafka, HEALTH_TOPIC);
      return `produce→consume on ${HEALTH_TOPIC} (partition ${at.partition}, offset ${at.offset}) via ${config.kafka.brokers.join(',')}`;
    },
    s3: async () => {
      if (config.objectStore.kind === 'local')
        return `not used: the object store is the local folder ${config.objectStore.dir}`;
      const client = createS3Client(config.s3, { maxAttempts: 2 });
      try {
        await s3RoundTrip(client, HEALTH_BUCKET);
        return `put→list→get→delete in s3://${HEALTH_BUCKET} at ${config.s3.endpoint ?? 'AWS'}`;
      } finally {
        client.destroy();
      }
    },
    duckdb: async () => {
      const version = await duckdbPing(config.warehouse.duckdbPath);
      return `DuckDB ${version} opened ${config.warehouse.duckdbPath} and answered a query`;
    },
  };
}

export type HealthProbes = ReturnType<typeof healthProbes>;
