import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

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
