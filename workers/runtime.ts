import { DefaultLogger, Runtime, type LogLevel as SdkLogLevel } from '@temporalio/worker';
import { routeKafkaLogs } from '../lib/bus/kafka.js';
import type { AppConfig } from '../lib/config.js';
import { atLeast, jsonLogLine, shapeLogEntry, textLogLine, type LogEntry } from '../lib/logging.js';
import { TASK_QUEUES } from '../temporal-config/task-queues.js';

/**
 * The process-wide Temporal runtime: logs as text or JSON lines, one line per entry (with run and
 * activity identifiers, secrets and task tokens left out, an activity failure as "activity X
 * failed (attempt n): cause"), at LOG_LEVEL, the SDK core's own lines and the Kafka client's
 * included; with METRICS_BIND, a Prometheus endpoint serving the SDK's metrics and the
 * pipeline's (activities/metrics.ts). Call once, before any worker or connection.
 */
export function installRuntime(
  config: AppConfig,
  opts: { minLevel?: AppConfig['observability']['logLevel'] } = {},
) {
  const { metricsBind, logFormat, logLevel } = config.observability;
  const level = opts.minLevel ?? logLevel;
  const write =
    logFormat === 'json'
      ? (e: LogEntry) => process.stdout.write(jsonLogLine(e) + '\n')
      : (e: LogEntry) => process.stderr.write(textLogLine(e) + '\n');
  const logger = new DefaultLogger(level, (entry) => {
    // The stream worker runs the consumer's activities only: its "no workflows" notice is expected.
    const shaped = shapeLogEntry(entry, { activityOnlyQueues: [TASK_QUEUES.stream] });
    if (atLeast(shaped.level, level)) write(shaped);
  });
  const runtime = Runtime.install({
    logger,
    telemetryOptions: {
      // The SDK core's lines go through the same logger (format, level); its INFO lines are start-up chatter.
      logging: {
        forward: {},
        filter: { core: (level === 'INFO' ? 'WARN' : level) as SdkLogLevel, other: 'ERROR' },
      },
      ...(metricsBind
        ? {
            metrics: {
              prometheus: {
                bindAddress: metricsBind,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
  });
  routeKafkaLogs((lvl, message, meta) => {
    runtime.logger.log(lvl, message, meta);
  }, level);
  return runtime;
}
