/**
 * Whether a request may go ahead at all: the connection's and the account's rate limits (token buckets,
 * costs in rate-limit.ts) and load shedding when persisting falls behind. Everything here refuses before
 * the engine sees anything.
 */
import type { Config } from '../config.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { RateLimitsResult } from '../protocol/types.js';
import type { Sequencer } from '../sequencer.js';
import { COST, TokenBucket } from './rate-limit.js';
import { Refusal } from './responses.js';
import type { Session } from './session.js';

type AdmissionConfig = Pick<
  Config,
  'accountRateBurst' | 'accountRatePerSec' | 'maxBacklog' | 'maxPersistLag'
>;

/** What to answer a request the connection's bucket could not pay for. */
export interface Limited {
  code: ErrorCode;
  message: string;
  data: Record<string, unknown>;
}

/** A request that costs more than a bucket's burst can never pass: said so, with no retry hint. */
function tooCostly(scope: 'connection' | 'account', cost: number, burst: number): Limited {
  return {
    code: 'RATE_LIMITED',
    message: `this request costs ${cost} units, more than the ${scope} burst of ${burst}: split it`,
    data: { scope, cost, burst, retryAfterMs: null },
  };
}

export class Admission {
  private readonly accountBuckets = new Map<number, TokenBucket>();

  constructor(
    private readonly sequencer: Sequencer,
    private readonly cfg: AdmissionConfig,
  ) {}

  /** Takes `cost` from the connection's bucket; what to answer if it could not (null: admitted). */
  takeConnection(s: Session, cost: number, now: number): Limited | null {
    if (s.bucket.tryTake(cost, now)) return null;
    if (cost > s.bucket.capacity) return tooCostly('connection', cost, s.bucket.capacity);
    return {
      code: 'RATE_LIMITED',
      message: 'connection rate limit exceeded',
      data: {
        scope: 'connection',
        retryAfterMs: s.bucket.retryAfterMs(cost, now),
        remaining: s.bucket.remaining(now),
      },
    };
  }

  /** Takes `cost` from the account's bucket, or refunds the connection and refuses. */
  takeAccount(s: Session, acc: number, cost: number, now: number): void {
    let bucket = this.accountBuckets.get(acc);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.cfg.accountRateBurst, this.cfg.accountRatePerSec, now);
      this.accountBuckets.set(acc, bucket);
    }
    if (!bucket.tryTake(cost, now)) {
      s.bucket.refund(cost);
      if (cost > bucket.capacity) {
        const t = tooCostly('account', cost, bucket.capacity);
        throw new Refusal(t.code, t.message, t.data);
      }
      throw new Refusal('RATE_LIMITED', 'account rate limit exceeded', {
        scope: 'account',
        retryAfterMs: bucket.retryAfterMs(cost, now),
        remaining: bucket.remaining(now),
      });
    }
  }

  /** `rate_limits`: both buckets after this request paid, and the cost table. */
  budget(s: Session, acc: number, now: number): RateLimitsResult {
    const bucket = this.accountBuckets.get(acc)!; // takeAccount made it
    return {
      connection: s.bucket.state(now),
      account: { accountId: acc, ...bucket.state(now) },
      costs: { ...COST },
    };
  }

  /**
   * Forgets the account buckets that refilled to their burst: a full bucket is what a new one would be, so
   * nothing changes for the account, and the map holds only accounts trading now (gateway sweep).
   */
  forgetFullBuckets(now: number): number {
    let n = 0;
    for (const [acc, b] of this.accountBuckets) {
      if (b.remaining(now) >= b.capacity) {
        this.accountBuckets.delete(acc);
        n++;
      }
    }
    return n;
  }

  get accountBucketCount(): number {
    return this.accountBuckets.size;
  }

  /**
   * Load shedding: when the queue falls behind (commands sequenced but not released, or batches not yet
   * enqueued in fast mode), or the workers fall behind on writing what the queue holds, new trader commands
   * are refused with a retry hint instead of piling up without bound, in memory or in Redis (which refuses
   * writes when full: noeviction). Cancels are let through: de-risking must stay possible.
   */
  checkBacklog(kind?: string): void {
    if (kind === 'cancel_order' || kind === 'cancel_all' || kind === 'set_position_tpsl') return;
    const persistLag = this.sequencer.persistLag;
    if (this.cfg.maxPersistLag > 0 && persistLag > this.cfg.maxPersistLag) {
      throw new Refusal('UNAVAILABLE', 'the exchange is behind on writing to its database; retry shortly', {
        retryAfterMs: 250,
        persistLag,
      });
    }
    const unreleased = this.sequencer.lastSeq - this.sequencer.releasedSeq;
    const pendingBatches = (this.sequencer.batcher as { pending?: number }).pending ?? 0;
    if (unreleased > this.cfg.maxBacklog || pendingBatches * 100 > this.cfg.maxBacklog) {
      throw new Refusal('UNAVAILABLE', 'the exchange is behind on persisting; retry shortly', {
        retryAfterMs: 50,
        backlog: unreleased,
      });
    }
  }
}
