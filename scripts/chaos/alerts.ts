/**
 * A webhook receiver for the workers' alerts (ALERT_WEBHOOK_URL, Slack-compatible `{text}`), on
 * 127.0.0.1. Each scenario's worker posts to its own path, so alerts are counted per scenario.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  scenario: string;
  text: string;
  at: number;
}

export class AlertReceiver {
  readonly received: ReceivedAlert[] = [];
  private server?: Server;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let text = body;
        try {
          const parsed = JSON.parse(body) as { text?: unknown };
          if (typeof parsed.text === 'string') text = parsed.text;
        } catch {
          /* not JSON: keep the body */
        }
        this.received.push({ scenario: (req.url ?? '/').slice(1), text, at: Date.now() });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  urlFor(scenario: string): string {
    return `http://127.0.0.1:${this.port}/${scenario}`;
  }

  alertsOf(scenario: string): ReceivedAlert[] {
    return this.received.filter((a) => a.scenario === scenario);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
