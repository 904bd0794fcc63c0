import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AppConfig } from '../lib/config.js';

/** The options both the client and the worker connection take: address, TLS (mTLS or system CAs), API key. */
export function temporalConnectionOptions(t: AppConfig['temporal']) {
  const read = (path: string | undefined, what: string) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read the Temporal ${what} at ${path}: ${(e as Error).message}`);
    }
  };
  const cert = read(t.tls?.certPath, 'client certificate (TEMPORAL_TLS_CERT_PATH)');
  const key = read(t.tls?.keyPath, 'client key (TEMPORAL_TLS_KEY_PATH)');
  const ca = read(t.tls?.caPath, 'CA bundle (TEMPORAL_TLS_CA_PATH)');
  return {
    address: t.address,
    ...(t.tls
      ? {
          tls: {
            ...(cert && key ? { clientCertPair: { crt: cert, key } } : {}),
            ...(ca ? { serverRootCACertificate: ca } : {}),
          },
        }
      : {}),
    ...(t.apiKey ? { apiKey: t.apiKey } : {}),
  };
}

/** A client connection to the configured cluster (local dev server, self-hosted with mTLS, or Temporal Cloud). */
export function connectClient(
  config: AppConfig,
  connectTimeout: number | string = 5000,
): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout });
}

/** The worker's connection to the same cluster. */
export function connectNative(config: AppConfig): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config.temporal));
}

/** Runs `work` with a client on the configured namespace, closing the connection afterwards. */
export async function withClient<T>(config: AppConfig, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connectClient(config);
  try {
    return await work(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}
