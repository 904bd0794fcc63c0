import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { AppConfig } from '../lib/config.js';
import { jsonLogLine } from '../lib/logging.js';

/**
 * The process-wide Temporal runtime: logs as text or JSON lines (with run and activity
 * identifiers, secrets redacted) and, with METRICS_BIND, a Prometheus endpoint serving the SDK's
 * metrics and the pipeline's (activities/metrics.ts). Call once, before any worker or connection.
 */
export function installRuntime(
  config: AppConfig,
  opts: { minLevel?: AppConfig['observability']['logLevel'] } = {},
) {
  const { metricsBind, logFormat, logLevel } = config.observability;
  const level = opts.minLevel ?? logLevel;
  const logger =
    logFormat === 'json'
      ? new DefaultLogger(level, (entry) => process.stdout.write(jsonLogLine(entry) + '\n'))
      : new DefaultLogger(level);
  return Runtime.install({
    logger,
    telemetryOptions: metricsBind
      ? {
          metrics: {
            prometheus: { bindAddress: metricsBind, countersTotalSuffix: true, useSecondsForDurations: true },
          },
        }
      : undefined,
  });
}
