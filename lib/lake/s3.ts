import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from './types.js';
import { checkObjectKey } from './keys.js';

export interface S3Settings {
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** An S3 client for AWS or any S3-compatible endpoint (path-style addressing when an endpoint is given). */
export function createS3Client(cfg: S3Settings, opts: { maxAttempts?: number } = {}): S3Client {
  // The SDK warns that future releases need Node 22; this project pins a release that runs on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: cfg.region,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint, forcePathStyle: true } : {}),
    ...(cfg.credentials ? { credentials: cfg.credentials } : {}),
    ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
  });
}

/** Creates the bucket unless it exists. Safe to call concurrently and repeatedly. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (e) {
    if (!(e instanceof S3ServiceException) || e.$metadata.httpStatusCode !== 404) throw e;
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (
      !(e instanceof S3ServiceException) ||
      !['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(e.name)
    ) {
      throw e;
    }
  }
}

/** Put → list → get → delete of one unique object in `bucket`; throws naming the step that misbehaved. */
export async function s3RoundTrip(client: S3Client, bucket: string): Promise<string> {
  await ensureBucket(client, bucket);
  const key = `health/${randomUUID()}.txt`;
  const body = `egx health ${key}`;
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }),
  );
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    if (!listed.Contents?.some((o) => o.Key === key))
      throw new Error(`s3://${bucket}/${key} was written but is not listed`);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await got.Body?.transformToString();
    if (text !== body)
      throw new Error(`s3://${bucket}/${key} read back ${JSON.stringify(text)} instead of what was written`);
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
  return key;
}

const isNotFound = (e: unknown) =>
  e instanceof S3ServiceException &&
  (e.$metadata.httpStatusCode === 404 || e.name === 'NoSuchKey' || e.name === 'NotFound');

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

/** Objects in one S3 bucket (AWS, versitygw, MinIO, ...). Bodies over `partSize` are uploaded in parts. */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;

  private readonly partSize: number;
  private readonly pageSize: number | undefined;

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    opts: { partSize?: number; pageSize?: number } = {},
  ) {
    this.partSize = opts.partSize ?? 8 * 1024 * 1024;
    this.pageSize = opts.pageSize;
    this.location = `s3://${bucket}`;
  }

  async put(
    key: string,
    body: string | Uint8Array | Readable,
    opts: { contentType?: string } = {},
  ): Promise<void> {
    const params = {
      Bucket: this.bucket,
      Key: checkObjectKey(key),
      Body: body,
      ContentType: opts.contentType,
    };
    if (typeof body === 'string' || body instanceof Uint8Array) {
      if (Buffer.byteLength(body) <= this.partSize) {
        await this.client.send(new PutObjectCommand(params));
        return;
      }
    }
    await new Upload({ client: this.client, params, partSize: this.partSize, queueSize: 2 }).done();
  }

  async get(key: string): Promise<Readable> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: checkObjectKey(key) }),
      );
      return res.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError(this.location, key);
      throw e;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const res = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: checkObjectKey(key) }),
      );
      return { key, size: res.ContentLength ?? 0, etag: unquote(res.ETag), lastModified: res.LastModified };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const page of paginateListObjectsV2(
      { client: this.client, pageSize: this.pageSize },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const o of page.Contents ?? []) {
        if (o.Key)
          yield { key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag), lastModified: o.LastModified };
      }
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checkObjectKey(key) }));
  }
}
