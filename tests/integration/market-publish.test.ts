import { randomUUID } from 'node:crypto';
import { expect, inject, test } from 'vitest';
import { createMarketActivities } from '../../activities/market.js';
import { decodeBar } from '../../lib/bus/message.js';
import { createKafka, createKafkaPublisher } from '../../lib/bus/kafka.js';
import { loadConfig } from '../../lib/config.js';
import { SimulatorSource } from '../../lib/sources/simulator.js';

test('a poll publishes every simulated bar to Kafka, keyed by symbol, in the bus format', async () => {
  const config = loadConfig(inject('stackEnv'));
  const kafka = createKafka(config.kafka, { clientId: 'egx-test' });
  const topic = `egx_market_data_test_${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const publisher = createKafkaPublisher(kafka, topic);
  const acts = createMarketActivities({ source: new SimulatorSource(4), publisher });
  // Sunday 2025-11-30, 10:00–11:00 Cairo: 12 five-minute bars per symbol.
  const r = await acts.pollMarket({
    symbols: ['COMI', 'ETEL'],
    interval: '5m',
    from: '2025-11-30T08:00:00.000Z',
    to: '2025-11-30T09:00:00.000Z',
  });
  await publisher.close();
  expect(r).toEqual({ bars: 24, failed: [] });

  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: { key: string; symbol: string; ts: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of 24 messages consumed`)), 20_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const d = decodeBar(message.value);
        if (!d.ok) throw new Error(d.reason);
        seen.push({ key: message.key!.toString(), symbol: d.bar.symbol, ts: d.bar.ts });
        if (seen.length === 24) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  expect(seen.every((m) => m.key === m.symbol)).toBe(true);
  expect(new Set(seen.map((m) => `${m.symbol}|${m.ts}`)).size).toBe(24);
});
