/**
 * The output batcher's rules with a stand-in queue (no Redis needed): release order and timing in durable
 * and fast mode, job ids, retries then fatal; and the Redis eviction-policy check.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../engine/commands.js';
import { BullOutputBatcher, jobIdOf } from '../../src/pipeline/batcher.js';
import type { BatchJobData } from '../../src/pipeline/codec.js';
import { ensureNoEviction, RedisEvictionPolicyError } from '../../src/pipeline/redis-check.js';
import type { Batch } from '../../src/pipeline/types.js';

const cmd = (seq: number) => ({ type: 'checkpoint', seq, ts: seq }) as Command;

/** A queue whose add() resolves when the test says so (or fails), recording what was added. */
function fakeQueue(failures = 0) {
  const added: { id: string; batch: BatchJobData; resolve: () => void }[] = [];
  let failLeft = failures;
  const queue = {
    add: (_name: string, batch: BatchJobData, opts: { jobId: string }) => {
      if (failLeft-- > 0) return Promise.reject(new Error('redis down'));
      return new Promise<void>((resolve) => added.push({ id: opts.jobId, batch, resolve }));
    },
  } as unknown as Queue<BatchJobData>;
  return { queue, added };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('BullOutputBatcher', () => {
  it('durable: releases each batch after its job is added, strictly in seq order', async () => {
    const { queue, added } = fakeQueue();
    const b = new BullOutputBatcher({ mode: 'durable', queue, maxCommands: 2 });
    const released: string[] = [];
    b.onRelease((batch) => released.push(jobIdOf(batch)));
    for (let s = 1; s <= 6; s++) b.push(cmd(s));
    await tick();
    expect(added.map((a) => a.id)).toEqual(['b-1-2', 'b-3-4', 'b-5-6']);
    expect(released).toEqual([]);
    added[2]!.resolve();
    added[1]!.resolve();
    await tick();
    expect(released).toEqual([]); // b-1-2 is not in Redis yet: nothing after it may go out
    added[0]!.resolve();
    await tick();
    expect(released).toEqual(['b-1-2', 'b-3-4', 'b-5-6']);
    expect(b.releasedSeq).toBe(6);
  });

  it('closes a batch after maxDelayMs, and on flush', async () => {
    const { queue, added } = fakeQueue();
    const b = new BullOutputBatcher({ mode: 'durable', queue, maxDelayMs: 1 });
    b.push(cmd(1));
    b.push(cmd(2));
    await tick();
    expect(added.map((a) => a.id)).toEqual(['b-1-2']);
    b.push(cmd(3));
    const flushed = b.flush();
    added[0]!.resolve();
    await tick();
    added[1]!.resolve();
    await flushed;
    expect(b.releasedSeq).toBe(3);
  });

  it('closes at the end of the turn when nothing is in flight; while one is, the delay groups commands', async () => {
    const { queue, added } = fakeQueue();
    const turn = () => new Promise((r) => setImmediate(r));
    const b = new BullOutputBatcher({ mode: 'durable', queue, maxDelayMs: 60_000 });
    b.push(cmd(1));
    b.push(cmd(2)); // the same turn: one batch
    await turn();
    expect(added.map((a) => a.id)).toEqual(['b-1-2']); // without waiting out the delay
    b.push(cmd(3)); // b-1-2 is in flight: this one waits (for the delay) to group with later commands
    await turn();
    b.push(cmd(4));
    await turn();
    expect(added).toHaveLength(1);
    const flushed = b.flush();
    expect(added.map((a) => a.id)).toEqual(['b-1-2', 'b-3-4']);
    added[0]!.resolve();
    added[1]!.resolve();
    await flushed;
    expect(b.releasedSeq).toBe(4);
  });

  it('fast (unsafe): releases before the enqueue resolves', async () => {
    const { queue, added } = fakeQueue();
    const b = new BullOutputBatcher({ mode: 'fast', queue, maxCommands: 1 });
    const released: number[] = [];
    b.onRelease((batch) => released.push(batch.toSeq));
    b.push(cmd(1));
    expect(released).toEqual([1]);
    expect(added).toHaveLength(1);
  });

  it('retries a failed enqueue, then reports fatal and refuses more commands', async () => {
    const { queue, added } = fakeQueue(2);
    const b = new BullOutputBatcher({ mode: 'durable', queue, maxCommands: 1, enqueueBackoffMs: 1 });
    b.push(cmd(1));
    await tick();
    await tick();
    expect(added.map((a) => a.id)).toEqual(['b-1-1']); // third try succeeded
    added[0]!.resolve();

    const dead = fakeQueue(100);
    const d = new BullOutputBatcher({
      mode: 'durable',
      queue: dead.queue,
      maxCommands: 1,
      enqueueAttempts: 3,
      enqueueBackoffMs: 1,
    });
    const fatal = new Promise<Error>((resolve) => d.onFatal(resolve));
    const released: Batch[] = [];
    d.onRelease((x) => released.push(x));
    d.push(cmd(1));
    expect((await fatal).message).toBe('redis down');
    expect(released).toEqual([]);
    expect(() => d.push(cmd(2))).toThrow(/stopped/);
  });
});

describe('ensureNoEviction', () => {
  const fakeRedis = (policy: string) => {
    const state = { policy, set: [] as string[] };
    const redis = {
      info: async () => `# Memory\r\nused_memory:1\r\nmaxmemory_policy:${state.policy}\r\n`,
      config: async (op: string, _key: string, value?: string) => {
        if (op === 'SET') {
          state.set.push(value!);
          state.policy = value!;
          return 'OK';
        }
        return ['maxmemory-policy', state.policy];
      },
    } as unknown as Redis;
    return { redis, state };
  };

  it('passes on noeviction', async () => {
    await expect(ensureNoEviction(fakeRedis('noeviction').redis)).resolves.toBeUndefined();
  });

  it('refuses any other policy with a message saying what to do', async () => {
    const { redis, state } = fakeRedis('allkeys-lru');
    const refused = ensureNoEviction(redis);
    await expect(refused).rejects.toBeInstanceOf(RedisEvictionPolicyError);
    await expect(ensureNoEviction(redis)).rejects.toThrow(
      /allkeys-lru.*noeviction.*CONFIG SET maxmemory-policy noeviction/s,
    );
    expect(state.set).toEqual([]);
  });

  it('sets it only when configured to', async () => {
    const { redis, state } = fakeRedis('volatile-lru');
    await ensureNoEviction(redis, { fix: true });
    expect(state.set).toEqual(['noeviction']);
  });
});
