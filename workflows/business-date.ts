import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ApplicationFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { businessDateProblem } from '../lib/util/dates.js';
import { SA } from '../temporal-config/search-attribute-keys.js';

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** 'YYYY-MM-DD' of an instant in Africa/Cairo (the exchange's calendar). */
export function cairoDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Africa/Cairo',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** Cairo wall-clock 'HH:MM' of an instant: shown on timers; the slot of a scheduled transforms run. */
export function cairoTime(at: Date): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Africa/Cairo',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}

/**
 * The business date of this run: the input's, else the Cairo date of the schedule's nominal start
 * (so a backfilled or retried run processes its own day), never the wall clock. Undefined if neither.
 */
export function businessDateOf(input: { businessDate?: string }): string | undefined {
  if (input.businessDate) return input.businessDate;
  const scheduled = scheduledStart();
  return scheduled ? cairoDate(scheduled) : undefined;
}

/** The nominal time of a schedule-started run, or undefined. */
export function scheduledStart(): Date | undefined {
  return workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
}

/** Sets the pipeline and business-date search attributes on this run, however it was started (schedule, CLI, backfill). */
export function tagRun(pipeline: string, businessDate?: string): void {
  upsertSearchAttributes([
    { key: SA.pipeline, value: pipeline },
    ...(businessDate ? [{ key: SA.businessDate, value: businessDate }] : []),
  ]);
}

/**
 * The business date a run was given, checked: a missing or impossible one (2026-02-30) fails the
 * run at once as BadInput, before anything touches the warehouse.
 */
export function requireBusinessDate(date: string | undefined, what: string): string {
  if (date === undefined)
    throw ApplicationFailure.nonRetryable(`no ${what}: pass it or start from the schedule`, 'BadInput');
  const problem = businessDateProblem(date);
  if (problem) throw ApplicationFailure.nonRetryable(`${what} ${date}: ${problem}`, 'BadInput');
  return date;
}
