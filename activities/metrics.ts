import { noopMetricMeter, type MetricMeter } from '@temporalio/common';

/**
 * The pipeline's own metrics, recorded through the Temporal SDK's meter: the worker's Prometheus
 * endpoint serves them beside the SDK's, tagged with namespace, task queue and activity type.
 * Names as scraped (counters get `_total`); dashboards and alerts use these.
 */
export const PIPELINE_METRICS = {
  rowsLoaded: 'egx_batch_rows_loaded_total',
  rowsQuarantined: 'egx_batch_rows_quarantined_total',
  filesLoaded: 'egx_batch_files_total',
  messagesConsumed: 'egx_stream_messages_consumed_total',
  deadLettered: 'egx_stream_dead_lettered_total',
  consumerLag: 'egx_stream_consumer_lag',
  dlqMessages: 'egx_stream_dlq_messages',
  modelSeconds: 'egx_transform_model_seconds',
  testFailures: 'egx_transform_test_failures_total',
  polls: 'egx_market_symbol_polls_total',
  barsPublished: 'egx_market_bars_published_total',
} as const;

const base = (name: string) => name.replace(/_total$/, '');

/** The pipeline's instruments on a meter (an activity's `Context.current().metricMeter`). */
export function pipelineMetrics(meter: MetricMeter) {
  const M = PIPELINE_METRICS;
  return {
    rowsLoaded: meter.createCounter(
      base(M.rowsLoaded),
      'rows',
      'Rows loaded into the warehouse from batch files',
    ),
    rowsQuarantined: meter.createCounter(
      base(M.rowsQuarantined),
      'rows',
      'Rows of batch files quarantined with a reason',
    ),
    filesLoaded: meter.createCounter(
      base(M.filesLoaded),
      'files',
      'Batch files by outcome (loaded, unchanged, unreadable)',
    ),
    messagesConsumed: meter.createCounter(
      base(M.messagesConsumed),
      'messages',
      'Bus messages consumed into the sinks',
    ),
    deadLettered: meter.createCounter(
      base(M.deadLettered),
      'messages',
      'Messages sent to the dead-letter topic',
    ),
    consumerLag: meter.createGauge(
      M.consumerLag,
      'int',
      'messages',
      'Messages the sink consumer group is behind',
    ),
    dlqMessages: meter.createGauge(
      M.dlqMessages,
      'int',
      'messages',
      'Messages held by the dead-letter topic',
    ),
    modelSeconds: meter.createHistogram(M.modelSeconds, 'float', 's', 'Time to build one transform model'),
    testFailures: meter.createCounter(base(M.testFailures), 'tests', 'Data tests that failed or warned'),
    polls: meter.createCounter(base(M.polls), 'polls', 'Per-symbol poll results (ok, failed)'),
    barsPublished: meter.createCounter(base(M.barsPublished), 'bars', 'Bars published by market polls'),
  };
}

export type PipelineMetrics = ReturnType<typeof pipelineMetrics>;

/** The instruments of the running activity (tagged with its type and task queue), or no-ops outside one. */
export function activityMetrics(current: () => { metricMeter: MetricMeter }): PipelineMetrics {
  try {
    return pipelineMetrics(current().metricMeter);
  } catch {
    return pipelineMetrics(noopMetricMeter);
  }
}

/** Counts a batch of file loads: rows loaded and quarantined, and files by outcome, per file kind. */
export function recordLoads(
  m: PipelineMetrics,
  results: { kind: string; skipped?: boolean; error?: string; rowsLoaded: number; rowsQuarantined: number }[],
): void {
  for (const r of results) {
    const outcome = r.error ? 'unreadable' : r.skipped ? 'unchanged' : 'loaded';
    m.filesLoaded.add(1, { kind: r.kind, outcome });
    m.rowsLoaded.add(r.rowsLoaded, { kind: r.kind });
    m.rowsQuarantined.add(r.rowsQuarantined, { kind: r.kind });
  }
}
