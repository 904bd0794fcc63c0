import { z } from 'zod';
import { symbolListSchema } from './market/symbol.js';
import type { SnowflakeSettings } from './warehouse/snowflake.js';

/** Thrown by loadConfig when environment variables are missing or malformed; names each variable and the rule. */
export class ConfigInvalidError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigInvalidError';
  }
}

const hostPort = /^[^\s:,]+:\d{1,5}$/;

/** The tracked symbols when EGX_SYMBOLS is unset: the 16 names the pipeline this one replaces tracked. */
export const DEFAULT_SYMBOLS = [
  'COMI',
  'ETEL',
  'SWDY',
  'PHDC',
  'ORAS',
  'ESRS',
  'HRHO',
  'OCDI',
  'SKPC',
  'TMGH',
  'JUFO',
  'EKHO',
  'CLHO',
  'OTMT',
  'BTFH',
  'HELI',
];

/** The environment variables the pipeline reads. */
export const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(hostPort, 'expected host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  // Prepended to every run's ID: several deployments (or test runs) sharing one namespace.
  TEMPORAL_ID_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only')
    .default(''),
  // A remote cluster or Temporal Cloud: mTLS client certificate and key (files), a CA bundle, or an API key.
  TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CA_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_UI_URL: z
    .url({ message: 'expected a URL such as http://127.0.0.1:8233' })
    .default('http://127.0.0.1:8233'),
  KAFKA_BOOTSTRAP_SERVERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim()))
    .refine((list) => list.every((b) => hostPort.test(b)), 'expected host:port[,host:port...]'),
  KAFKA_TOPIC: z.string().min(1).default('egx_market_data'),
  // direct: polls write straight to the sinks (no broker); kafka: through the topic and the sink consumer.
  BUS: z.enum(['kafka', 'direct']).default('kafka'),
  MARKET_SOURCE: z.enum(['simulator', 'tradingview', 'replay']).default('simulator'),
  // Tickers as lib/market/symbol.ts defines them, comma-separated; typed lower case is upper-cased.
  EGX_SYMBOLS: symbolListSchema.default(DEFAULT_SYMBOLS),
  POLL_INTERVAL: z
    .string()
    .default('5m')
    .transform((s, ctx) => {
      const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(s.trim());
      const minutes = m ? Number(m[1]) * ({ s: 1 / 60, m: 1, h: 60 }[m[2] ?? 'm'] ?? 1) : NaN;
      if (!(minutes >= 1))
        ctx.addIssue({
          code: 'custom',
          message: 'expected a duration of at least 1 minute, such as 5m, 300s or 1h',
        });
      return minutes;
    }),
  // Replay source: a folder, or a key prefix in the object store.
  REPLAY_DIR: z.string().min(1).optional(),
  REPLAY_PREFIX: z.string().min(1).default('streaming/'),
  REPLAY_SPEED: z.coerce.number().positive().default(1),
  // Alerts: a Slack-compatible webhook and/or e-mail through SMTP; repeats of a problem are grouped.
  ALERT_WEBHOOK_URL: z
    .url({ message: 'expected a URL such as https://hooks.slack.com/services/…' })
    .optional(),
  ALERT_EMAIL_TO: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .optional(),
  ALERT_EMAIL_FROM: z.string().min(3).default('egx-pipeline@localhost'),
  ALERT_GROUP_MINUTES: z.coerce.number().int().min(0).default(60),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_SECURE: z.enum(['true', 'false']).default('false'),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  TRADINGVIEW_URL: z
    .string()
    .regex(/^wss?:\/\//, 'expected a ws:// or wss:// URL')
    .optional(),
  S3_ENDPOINT: z.url({ message: 'expected a URL such as http://127.0.0.1:7070' }).optional(),
  MINIO_ENDPOINT: z.url({ message: 'expected a URL such as http://127.0.0.1:9000' }).optional(),
  S3_BUCKET: z.string().min(3).default('egx-data-bucket'),
  OBJECT_STORE: z.enum(['local', 's3']).optional(),
  LAKE_DIR: z.string().min(1).default('data/lake'),
  ARTIFACTS_DIR: z.string().min(1).default('data/artifacts'),
  DOCS_DIR: z.string().min(1).default('data/docs'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  WAREHOUSE: z.enum(['duckdb', 'snowflake']).default('duckdb'),
  DUCKDB_PATH: z.string().min(1).default('data/egx.duckdb'),
  SNOWFLAKE_ACCOUNT: z.string().min(1).optional(),
  SNOWFLAKE_USER: z.string().min(1).optional(),
  SNOWFLAKE_PASSWORD: z.string().min(1).optional(),
  SNOWFLAKE_PRIVATE_KEY_PATH: z.string().min(1).optional(),
  SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: z.string().min(1).optional(),
  SNOWFLAKE_WAREHOUSE: z.string().min(1).optional(),
  SNOWFLAKE_DATABASE: z.string().min(1).optional(),
  SNOWFLAKE_SCHEMA: z.string().min(1).optional(),
  SNOWFLAKE_ROLE: z.string().min(1).optional(),
  // Only for a local emulator (fakesnow): where to connect instead of <account>.snowflakecomputing.com.
  SNOWFLAKE_HOST: z.string().min(1).optional(),
  SNOWFLAKE_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SNOWFLAKE_PROTOCOL: z.enum(['http', 'https']).optional(),
  // Optional live view: bars also written to InfluxDB 1.x (unset = none), in this database.
  INFLUX_URL: z.string().url().optional(),
  INFLUX_DATABASE: z.string().min(1).default('egx'),
  // Worker observability: the Prometheus endpoint (host:port; unset = none) and the log format.
  METRICS_BIND: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:9464')
    .optional(),
  // The market dashboard (egx dashboard, and bash scripts/run.sh): where it listens.
  DASHBOARD_BIND: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8300')
    .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535')
    .default('127.0.0.1:8300'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  // Upper or lower case; WARNING is taken as WARN.
  LOG_LEVEL: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .trim()
            .toUpperCase()
            .replace(/^WARNING$/, 'WARN')
        : v,
    z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  ),
});

/** Snowflake connection settings (WAREHOUSE=snowflake): the adapter's, with the key as a file read when connecting. */
export type SnowflakeConfig = Omit<SnowflakeSettings, 'privateKey' | 'bulkChunkRows'> & {
  privateKeyPath?: string;
};

export interface AppConfig {
  temporal: {
    address: string;
    namespace: string;
    /** Prepended to every run's ID (several deployments or test runs in one namespace). */
    idPrefix: string;
    uiUrl: string;
    /** Set for a TLS connection (mTLS when cert and key are given). */
    tls?: { certPath?: string; keyPath?: string; caPath?: string };
    apiKey?: string;
  };
  kafka: { brokers: string[]; topic: string };
  /** How polled bars reach the sinks: through Kafka and the consumer, or directly. */
  bus: 'kafka' | 'direct';
  market: {
    source: 'simulator' | 'tradingview' | 'replay';
    symbols: string[];
    pollMinutes: number;
    replay: { dir?: string; prefix: string; speed: number };
    tradingViewUrl?: string;
  };
  /** Where the object store lives: a local directory (embedded default) or the S3 bucket below. */
  objectStore: { kind: 'local'; dir: string } | { kind: 's3' };
  s3: {
    /** Undefined means AWS itself. */
    endpoint?: string;
    region: string;
    bucket: string;
    /** Undefined means the AWS default credential chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string };
  };
  warehouse: { kind: 'duckdb' | 'snowflake'; duckdbPath: string; snowflake?: SnowflakeConfig };
  alerts: {
    webhookUrl?: string;
    email?: {
      host: string;
      port: number;
      secure: boolean;
      user?: string;
      password?: string;
      from: string;
      to: string[];
    };
    groupMinutes: number;
  };
  /** Local logs and artifacts the daily run prunes. */
  artifactsDir: string;
  /** Local copy of the generated model docs. */
  docsDir: string;
  /** The optional live view: InfluxDB 1.x that the stream sinks also write. */
  live?: { influxUrl: string; database: string };
  /** The market dashboard: host:port it listens on (127.0.0.1:8300 unless DASHBOARD_BIND says otherwise). */
  dashboard: { bind: string };
  observability: {
    /** Where the worker serves Prometheus metrics (host:port), if anywhere. */
    metricsBind?: string;
    logFormat: 'text' | 'json';
    logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  };
}

/** Reads and validates the environment once, at the edge. Empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigInvalidError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0]);
        return `${name}: ${i.message} (got ${JSON.stringify(raw[name])})`;
      }),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (Boolean(e.TEMPORAL_TLS_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_KEY_PATH)) {
    problems.push('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: set both or neither');
  }
  if (e.ALERT_EMAIL_TO?.length && !e.SMTP_HOST)
    problems.push('SMTP_HOST: required when ALERT_EMAIL_TO is set');
  if (Boolean(e.AWS_ACCESS_KEY_ID) !== Boolean(e.AWS_SECRET_ACCESS_KEY)) {
    problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both or neither');
  }
  if (e.WAREHOUSE === 'snowflake') {
    for (const name of ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_DATABASE'] as const) {
      if (!e[name]) problems.push(`${name}: required when WAREHOUSE=snowflake`);
    }
    if (Boolean(e.SNOWFLAKE_PASSWORD) === Boolean(e.SNOWFLAKE_PRIVATE_KEY_PATH)) {
      problems.push(
        'SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH: set exactly one when WAREHOUSE=snowflake',
      );
    }
  }
  if (problems.length) throw new ConfigInvalidError(problems);
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      idPrefix: e.TEMPORAL_ID_PREFIX,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
      // An API key or a certificate implies TLS; TEMPORAL_TLS=true alone gives TLS with the system CAs.
      tls:
        e.TEMPORAL_TLS === 'false'
          ? undefined
          : e.TEMPORAL_TLS === 'true' ||
              e.TEMPORAL_API_KEY ||
              e.TEMPORAL_TLS_CERT_PATH ||
              e.TEMPORAL_TLS_CA_PATH
            ? {
                certPath: e.TEMPORAL_TLS_CERT_PATH,
                keyPath: e.TEMPORAL_TLS_KEY_PATH,
                caPath: e.TEMPORAL_TLS_CA_PATH,
              }
            : undefined,
      apiKey: e.TEMPORAL_API_KEY,
    },
    kafka: { brokers: e.KAFKA_BOOTSTRAP_SERVERS, topic: e.KAFKA_TOPIC },
    bus: e.BUS,
    alerts: {
      webhookUrl: e.ALERT_WEBHOOK_URL,
      email:
        e.ALERT_EMAIL_TO?.length && e.SMTP_HOST
          ? {
              host: e.SMTP_HOST,
              port: e.SMTP_PORT,
              secure: e.SMTP_SECURE === 'true',
              user: e.SMTP_USER,
              password: e.SMTP_PASSWORD,
              from: e.ALERT_EMAIL_FROM,
              to: e.ALERT_EMAIL_TO,
            }
          : undefined,
      groupMinutes: e.ALERT_GROUP_MINUTES,
    },
    market: {
      source: e.MARKET_SOURCE,
      symbols: e.EGX_SYMBOLS,
      pollMinutes: e.POLL_INTERVAL,
      replay: { dir: e.REPLAY_DIR, prefix: e.REPLAY_PREFIX, speed: e.REPLAY_SPEED },
      tradingViewUrl: e.TRADINGVIEW_URL,
    },
    objectStore:
      (e.OBJECT_STORE ?? (e.S3_ENDPOINT || e.MINIO_ENDPOINT ? 's3' : 'local')) === 's3'
        ? { kind: 's3' }
        : { kind: 'local', dir: e.LAKE_DIR },
    s3: {
      endpoint: e.S3_ENDPOINT ?? e.MINIO_ENDPOINT,
      region: e.AWS_REGION,
      bucket: e.S3_BUCKET,
      credentials:
        e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY }
          : undefined,
    },
    warehouse: {
      kind: e.WAREHOUSE,
      duckdbPath: e.DUCKDB_PATH,
      snowflake:
        e.WAREHOUSE === 'snowflake'
          ? {
              account: e.SNOWFLAKE_ACCOUNT!,
              username: e.SNOWFLAKE_USER!,
              password: e.SNOWFLAKE_PASSWORD,
              privateKeyPath: e.SNOWFLAKE_PRIVATE_KEY_PATH,
              privateKeyPassphrase: e.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE,
              warehouse: e.SNOWFLAKE_WAREHOUSE,
              database: e.SNOWFLAKE_DATABASE!,
              schema: e.SNOWFLAKE_SCHEMA,
              role: e.SNOWFLAKE_ROLE,
              host: e.SNOWFLAKE_HOST,
              port: e.SNOWFLAKE_PORT,
              protocol: e.SNOWFLAKE_PROTOCOL,
            }
          : undefined,
    },
    artifactsDir: e.ARTIFACTS_DIR,
    docsDir: e.DOCS_DIR,
    live: e.INFLUX_URL ? { influxUrl: e.INFLUX_URL, database: e.INFLUX_DATABASE } : undefined,
    dashboard: { bind: e.DASHBOARD_BIND },
    observability: { metricsBind: e.METRICS_BIND, logFormat: e.LOG_FORMAT, logLevel: e.LOG_LEVEL },
  };
}
