import { ApplicationFailure } from '@temporalio/common';
import { logLevel } from 'kafkajs';
import { describe, expect, test } from 'vitest';
import { createKafka, kafkaLogLevel, routeKafkaLogs } from '../../lib/bus/kafka.js';
import { describeError, jsonLogLine, redact, shapeLogEntry, textLogLine } from '../../lib/logging.js';

test('a log entry is one JSON line with time, level, message and the run identifiers; secrets are redacted however nested', () => {
  const line = jsonLogLine({
    level: 'WARN',
    message: 'alert: daily-batch failed',
    timestampNanos: 1_764_000_000_123_000_000n,
    meta: {
      workflowId: 'daily-batch-2026-11-26',
      runId: 'r-1',
      activityId: '11',
      attempt: 2n,
      smtp: { host: 'mail', password: 'hunter2' },
      headers: [{ Authorization: 'Bearer abc' }],
      apiKey: 'k',
      TEMPORAL_API_KEY: 'k2',
      error: new Error('connection refused'),
    },
  });
  expect(line).not.toContain('\n');
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(parsed).toEqual({
    time: '2025-11-24T16:00:00.123Z',
    level: 'warn',
    msg: 'alert: daily-batch failed',
    workflowId: 'daily-batch-2026-11-26',
    runId: 'r-1',
    activityId: '11',
    attempt: '2',
    smtp: { host: 'mail', password: '[redacted]' },
    headers: [{ Authorization: '[redacted]' }],
    apiKey: '[redacted]',
    TEMPORAL_API_KEY: '[redacted]',
    error: { name: 'Error', message: 'connection refused' },
  });
  for (const secret of ['hunter2', 'Bearer abc', '"k"', 'k2']) expect(line).not.toContain(secret);
  expect(redact('plain')).toBe('plain');
});

// What the SDK's worker logs when an activity attempt throws: the whole context, the task token and the error with its stack.
const sdkActivityFailure = (error: Error) => ({
  level: 'WARN' as const,
  message: 'Activity failed',
  timestampNanos: 1_764_000_000_000_000_000n,
  meta: {
    isLocal: false,
    attempt: 3,
    namespace: 'default',
    taskToken: 'CiQ5ZjE0YmJkNy1hZGFiLTQ3ZmUtYjY1Ni0xMmE0NzQ3ZWYxNmYSHWRhaWx5LWJhdGNoLTIwMjYtMDEtMTQ',
    activityId: '7',
    activityType: 'loadBatchFile',
    taskQueue: 'egx-pipeline',
    workflowId: 'daily-batch-2026-01-14',
    workflowRunId: '0196…',
    workflowType: 'dailyBatchWorkflow',
    sdkComponent: 'worker',
    error,
    durationMs: 12,
  },
});

describe('log shaping', () => {
  test('an activity retry is one line naming the activity, the attempt and the cause, without the task token or stack', () => {
    const error = new Error(
      's3://egx-data-bucket/batch/prices/COMI.csv: connect ECONNREFUSED 127.0.0.1:7070',
      {
        cause: new Error('connect ECONNREFUSED 127.0.0.1:7070'),
      },
    );
    const shaped = shapeLogEntry(sdkActivityFailure(error));
    expect(shaped.level).toBe('WARN');
    expect(shaped.message).toBe(
      'activity loadBatchFile failed (attempt 3): Error: s3://egx-data-bucket/batch/prices/COMI.csv: connect ECONNREFUSED 127.0.0.1:7070',
    );
    const text = textLogLine(shaped);
    expect(text).toBe(
      '2025-11-24T16:00:00.000Z [WARN] activity loadBatchFile failed (attempt 3): Error: s3://egx-data-bucket/batch/prices/COMI.csv: connect ECONNREFUSED 127.0.0.1:7070  workflowId=daily-batch-2026-01-14 workflowType=dailyBatchWorkflow activityId=7 taskQueue=egx-pipeline',
    );
    const json = JSON.parse(jsonLogLine(shaped)) as Record<string, unknown>;
    expect(json).toMatchObject({ level: 'warn', activityType: 'loadBatchFile', attempt: 3 });
    for (const line of [text, jsonLogLine(shaped)]) {
      expect(line).not.toContain('\n');
      expect(line).not.toContain('CiQ5ZjE0');
      expect(line).not.toContain('at ');
    }
  });

  test('a typed failure shows its type, and a cause that adds something is kept', () => {
    const e = ApplicationFailure.nonRetryable('no model named gold_nope in transforms', 'UnknownModel');
    expect(shapeLogEntry(sdkActivityFailure(e)).message).toBe(
      'activity loadBatchFile failed (attempt 3): UnknownModel: no model named gold_nope in transforms',
    );
    expect(describeError(new Error('load failed', { cause: new Error('disk full') }))).toBe(
      'Error: load failed ← Error: disk full',
    );
  });

  test('"no workflows registered" is a debug line for an activities-only worker, and stays a warning for any other', () => {
    const entry = {
      level: 'WARN' as const,
      message: 'No workflows registered, not polling for workflow tasks',
      timestampNanos: 0n,
      meta: { sdkComponent: 'worker', taskQueue: 'egx-stream' },
    };
    expect(shapeLogEntry(entry, { activityOnlyQueues: ['egx-stream'] }).level).toBe('DEBUG');
    expect(
      shapeLogEntry(
        { ...entry, meta: { ...entry.meta, taskQueue: 'egx-pipeline' } },
        { activityOnlyQueues: ['egx-stream'] },
      ).level,
    ).toBe('WARN');
  });

  test('a task token never reaches a line, whatever the message', () => {
    const shaped = shapeLogEntry({
      level: 'INFO',
      message: 'something',
      timestampNanos: 0n,
      meta: { taskToken: 'abc', activityId: '1' },
    });
    expect(shaped.meta).toEqual({ activityId: '1' });
  });
});

describe("the Kafka client's lines", () => {
  test('go to the project logger as one line each, at the level they deserve', () => {
    const lines: [string, string, Record<string, unknown> | undefined][] = [];
    routeKafkaLogs((level, message, meta) => lines.push([level, message, meta]));
    const log = createKafka({ brokers: ['127.0.0.1:1'] }, { clientId: 'log-test' }).logger();
    // What kafkajs logs at start while the group coordinator of a fresh broker is still being set up.
    log.error('Response GroupCoordinator(key: 10, version: 2)', {
      broker: '127.0.0.1:9092',
      clientId: 'egx-sinks',
      error: 'The group coordinator is not available',
      correlationId: 1,
      size: 55,
    });
    log.error('Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1' });
    log.info('Starting', { groupId: 'egx-sinks' });
    // The sinks' write failed: kafkajs retries the batch, then the consumer crashes and the consuming
    // activity fails with the error (its own retry line says so); kafkajs' stack is dropped.
    log.error('Error when calling eachBatch', {
      topic: 'egx_market_data',
      error: 'connect ECONNREFUSED 127.0.0.1:7070',
      stack: 'Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect',
    });
    log.error('Crash: KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED 127.0.0.1:7070', {
      groupId: 'egx-sinks',
    });
    expect(lines).toEqual([
      [
        'DEBUG',
        'kafka: Response GroupCoordinator(key: 10, version: 2)',
        {
          broker: '127.0.0.1:9092',
          clientId: 'egx-sinks',
          error: 'The group coordinator is not available',
          correlationId: 1,
          size: 55,
        },
      ],
      ['WARN', 'kafka: Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1' }],
      [
        'DEBUG',
        'kafka: Error when calling eachBatch',
        { topic: 'egx_market_data', error: 'connect ECONNREFUSED 127.0.0.1:7070' },
      ],
      [
        'DEBUG',
        'kafka: Crash: KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED 127.0.0.1:7070',
        { groupId: 'egx-sinks' },
      ],
    ]);
    expect(kafkaLogLevel(logLevel.INFO, 'Starting')).toBe('DEBUG');
    // The client's own upgrade notice, printed when a producer is created without a partitioner.
    expect(
      kafkaLogLevel(
        logLevel.WARN,
        'KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior as in previous versions, create the producer with the option "createPartitioner: Partitioners.LegacyPartitioner".',
      ),
    ).toBe('DEBUG');
  });
});
