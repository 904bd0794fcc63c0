import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

// Keep test output readable: tests fail activities on purpose, so only errors are shown.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
});
