import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Changes whenever the content changes (S3 ETag; MD5 of the content for the local store). */
  etag: string;
  lastModified?: Date;
}

/** Thrown by ObjectStore.get/head callers when a key does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(location: string, key: string) {
    super(`${location}: no object at key "${key}"`);
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * The object store (raw archive, batch files, quarantine, docs): a local directory (embedded
 * default) or any S3-compatible bucket. Keys are '/'-separated paths as in the key layout.
 */
export interface ObjectStore {
  /** Where objects live, for messages: `s3://bucket` or `file:///abs/dir`. */
  readonly location: string;
  /** Writes an object whole; large bodies and streams are uploaded in parts. */
  put(key: string, body: string | Uint8Array | Readable, opts?: { contentType?: string }): Promise<void>;
  /** Reads an object as a stream; throws ObjectNotFoundError when missing. */
  get(key: string): Promise<Readable>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order, page by page. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
}

/** Reads a whole (small) object as UTF-8 text. */
export async function getText(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
