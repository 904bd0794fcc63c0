import { WorkflowFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
} from '@temporalio/common';

/**
 * A failed run explained for a person: the cause chain from the workflow down to the error that
 * started it (workflow → child run → activity → error type and message), one step per line.
 */
export function failureChain(e: unknown): string[] {
  const lines: string[] = [];
  let cur: unknown = e;
  let said = '';
  for (let depth = 0; cur && depth < 10; depth++) {
    const wrapper =
      cur instanceof WorkflowFailedError ||
      cur instanceof ChildWorkflowFailure ||
      cur instanceof ActivityFailure;
    // A cause that only repeats the message above it (the error an ApplicationFailure was made from) adds nothing.
    if (!wrapper && cur instanceof Error && cur.message && cur.message === said) {
      cur = cur.cause;
      continue;
    }
    if (!wrapper && cur instanceof Error) said = cur.message;
    if (cur instanceof WorkflowFailedError) {
      lines.push(`workflow failed`);
    } else if (cur instanceof ChildWorkflowFailure) {
      lines.push(`child run ${cur.execution.workflowId} (${cur.workflowType}) failed`);
    } else if (cur instanceof ActivityFailure) {
      lines.push(`activity ${cur.activityType} failed`);
    } else if (cur instanceof ApplicationFailure) {
      lines.push(`${cur.type ?? 'Error'}: ${cur.message}`);
    } else if (cur instanceof TemporalFailure) {
      lines.push(`${cur.name}: ${cur.message}`);
    } else if (cur instanceof Error) {
      lines.push(cur.message);
    } else {
      lines.push(typeof cur === 'string' ? cur : JSON.stringify(cur));
    }
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return lines;
}

/** The error a CLI command throws when the run it followed failed: the chain, then the run's link. */
export class RunFailedError extends Error {
  constructor(
    what: string,
    readonly chain: string[],
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(
      [
        `${what} failed:`,
        ...chain.map((l, i) => `${'  '.repeat(i + 1)}${i ? '└ ' : ''}${l}`),
        `  run: ${url}`,
      ].join('\n'),
      options,
    );
    this.name = 'RunFailedError';
  }
}

/** Rethrows a failed run's error as a RunFailedError naming what failed and why; other errors as they are. */
export function explainRunFailure(what: string, url: string, e: unknown): never {
  if (e instanceof WorkflowFailedError) throw new RunFailedError(what, failureChain(e), url, { cause: e });
  throw e;
}
