/**
 * A released command whose routing throws midway must not stall an account's private stream: the update it
 * had begun is committed and sent, and the account's next commands are published as usual.
 */
import { describe, expect, test } from 'vitest';
import type { EngineApi } from '../../engine/api.js';
import type { EngineEvent } from '../../engine/events.js';
import { AccountViews } from '../../src/gateway/account-view.js';
import { PrivateStreams } from '../../src/gateway/private-streams.js';
import { Router } from '../../src/gateway/router.js';
import type { Batch } from '../../src/pipeline/types.js';

const noop = () => {};
const counter = { inc: noop, observeUs: noop };

function order(seq: number, orderId: number): EngineEvent {
  return { type: 'order', seq, ts: seq, orderId, accountId: 1, status: 'NEW' } as unknown as EngineEvent;
}

describe('router: a command whose routing fails', () => {
  test('closes the private update it began; later updates still go out, numbered without a gap', () => {
    const engine = {
      lastSeq: 0,
      openOrders: () => [],
      positions: () => [],
      account: () => undefined,
    } as unknown as EngineApi;
    const views = new AccountViews('e1', engine, { bufferSize: 100, finalOrders: 10, fills: 10 });
    const sent: Array<{ seq: number; engineSeq: number; orders: unknown[] }> = [];
    const responses = {
      direct: false,
      send: (_s: unknown, msg: string) => sent.push(JSON.parse(msg)),
      flushUnlessInCallback: noop,
    };
    const streams = new PrivateStreams(views, {} as never, {} as never, responses as never);
    const v = views.open(1);
    v.streaming = true;
    v.subscribers.add({ closed: false } as never);
    const market = {
      mirror: (symbol: string) => {
        if (symbol === 'BOOM') throw new Error('planted failure');
        return undefined;
      },
    };
    const errors: unknown[] = [];
    const router = new Router(
      views,
      market as never,
      streams,
      { settle: noop, dropUpTo: noop } as never,
      { runDue: noop } as never,
      responses as never,
      { error: (o: unknown) => errors.push(o) } as never,
      { batches: counter, batchCommands: counter, releaseLatency: counter, rejects: counter } as never,
      { nowMicros: () => 0 } as never,
    );
    const boom = { type: 'book', seq: 1, ts: 1, symbol: 'BOOM', side: 'BUY', price: '1', quantity: '1' };
    const batch = (seq: number, events: EngineEvent[]): Batch => ({
      fromSeq: seq,
      toSeq: seq,
      commands: [{ type: 'checkpoint', seq, ts: seq } as never],
      events,
    });
    router.release(batch(1, [order(1, 11), boom as EngineEvent]));
    router.release(batch(2, [order(2, 12)]));
    router.release(batch(3, [order(3, 13)]));
    expect(errors).toHaveLength(1);
    expect(sent.map((u) => [u.seq, u.engineSeq, u.orders.length])).toEqual([
      [1, 1, 1],
      [2, 2, 1],
      [3, 3, 1],
    ]);
  });
});
