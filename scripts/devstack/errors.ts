/** Thrown by the local-stack scripts when a step fails in a way a person must fix (missing tool, failed download, server that never got ready). */
export class StackError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StackError';
  }
}
