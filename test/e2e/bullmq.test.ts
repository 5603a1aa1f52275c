/**
 * The same gateway on the real BullMQ output batcher (its own queue): acks come back only after their batch
 * is a job in Redis, and the job holds the commands and events the acks were built from.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchJobData, decodeBatch } from '../../src/pipeline/codec.js';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, RawClient, startServer, type Trader } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('gateway on the BullMQ batcher (durable)', () => {
  const queueName = `e2e-gateway-${randomBytes(4).toString('hex')}`;
  let server: ExchangeServer;
  let alice: Trader;
  let bob: Trader;
  let queue: Queue<BatchJobData>;
  beforeAll(async () => {
    server = await startServer(
      { batcher: 'bullmq', commitMode: 'durable', queueName, redisUrl: REDIS_URL },
      { batcher: undefined },
    );
    queue = new Queue<BatchJobData>(queueName, { connection: { url: REDIS_URL } });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    bob = await createTrader(server, 'bob');
  });
  afterAll(async () => {
    await server.stop();
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('acks an order and its fill only once their batch is in the queue', async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    const placed = await a.call('place', {
      symbol: 'BTC-PERP',
      side: 'BUY',
      orderType: 'LIMIT',
      price: '100',
      quantity: '1',
    });
    expect(placed.result.order.status).toBe('NEW');
    const sold = await b.call('place', {
      symbol: 'BTC-PERP',
      side: 'SELL',
      orderType: 'MARKET',
      quantity: '1',
    });
    expect(sold.result.order.status).toBe('FILLED');

    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'delayed']);
    const batches = jobs.map((j) => decodeBatch(j.data, j.id)).sort((x, y) => x.fromSeq - y.fromSeq);
    const commandSeqs = batches.flatMap((x) => x.commands.map((c) => c.seq));
    expect(commandSeqs).toContain(placed.result.seq);
    expect(commandSeqs).toContain(sold.result.seq);
    // Gap-free from the first command on.
    expect(commandSeqs).toEqual(Array.from({ length: commandSeqs.length }, (_, i) => i + 1));
    const trade = batches.flatMap((x) => x.events).find((e) => e.type === 'trade');
    expect(trade).toMatchObject({
      seq: sold.result.seq,
      tradeId: sold.result.fills[0].tradeId,
      price: '100',
    });

    const h = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(await h.json()).toMatchObject({ status: 'ready', commitMode: 'durable' });
    a.close();
    b.close();
  });
});
