import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Warehouse } from '../../lib/warehouse/types.js';

/** A real SMTP server and a Slack-style webhook on 127.0.0.1 that keep what they receive. */
export interface AlertReceivers {
  /** Raw RFC 822 messages, in order. */
  mails: string[];
  /** Webhook posts: their text and the path they were sent to. */
  posts: { text: string; path: string }[];
  smtpPort: number;
  /** The webhook's URL for a path (default /hooks/egx). */
  url(path?: string): string;
  /** Requests to a path answer 503 while its count is above zero (one fewer each time). */
  failures: Record<string, number>;
  close(): Promise<void>;
}

export async function startAlertReceivers(): Promise<AlertReceivers> {
  const mails: string[] = [];
  const posts: { text: string; path: string }[] = [];
  const failures: Record<string, number> = {};
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      if ((failures[path] ?? 0) > 0) {
        failures[path]!--;
        res.writeHead(503).end('busy');
        return;
      }
      posts.push({ ...(JSON.parse(body) as { text: string }), path });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  return {
    mails,
    posts,
    failures,
    smtpPort: (smtp.server.address() as AddressInfo).port,
    url: (path = '/hooks/egx') => `http://127.0.0.1:${port}${path}`,
    async close() {
      await new Promise<void>((r) => smtp.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** A warehouse that is down: every call fails (or, with `hang`, never answers). */
export function downWarehouse(hang = false): Warehouse {
  const fail = () =>
    hang ? new Promise<never>(() => {}) : Promise.reject(new Error('IO Error: Could not set lock on file'));
  return {
    dialect: 'duckdb',
    execute: fail,
    query: fail,
    bulkInsert: fail,
    upsert: fail,
    bootstrap: fail,
    close: async () => {},
  };
}
