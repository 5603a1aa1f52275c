/**
 * Token buckets, refilled lazily on use (no timers). Costs are integers in "units": a trader's cancels and
 * reduce-only orders cost a fifth of an opening order, so a trader out of budget can still de-risk.
 */
import type { Method, PlaceBatchParams, PlaceParams, RateBucket } from '../protocol/types.js';

export const COST = {
  place: 10,
  placeReduceOnly: 2,
  amend: 10,
  cancel: 2,
  cancel_all: 2,
  /** Setting a stop-loss or take-profit protects a position: priced like a cancel. */
  set_position_tpsl: 2,
  query: 5,
  subscribe: 5,
  auth: 10,
  cheap: 1,
  /** A request refused for its form (malformed, unauthenticated, bad parameters): a flood of them is limited. */
  refused: 5,
} as const;

/** What a validated request costs: a place_batch, the sum of its orders as single places. */
export function costOfRequest(method: Method, params: unknown): number {
  if (method === 'place') return costOf(method, (params as PlaceParams).reduceOnly === true);
  if (method === 'place_batch') {
    let sum = 0;
    for (const o of (params as PlaceBatchParams).orders) sum += costOf('place', o.reduceOnly === true);
    return sum;
  }
  return costOf(method, false);
}

export function costOf(method: Method, reduceOnly: boolean): number {
  switch (method) {
    case 'place':
      return reduceOnly ? COST.placeReduceOnly : COST.place;
    case 'amend':
      return COST.amend;
    case 'cancel':
      return COST.cancel;
    case 'cancel_all':
      return COST.cancel_all;
    case 'set_position_tpsl':
      return COST.set_position_tpsl;
    case 'auth':
      return COST.auth;
    case 'subscribe':
    case 'unsubscribe':
      return COST.subscribe;
    case 'time':
    case 'ping':
    case 'cancel_on_disconnect':
    case 'cancel_all_after':
    case 'rate_limits':
      return COST.cheap;
    default:
      return COST.query;
  }
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    now: number = performance.now(),
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
      this.last = now;
    }
  }

  /** Takes `cost` if available. */
  tryTake(cost: number, now: number): boolean {
    this.refill(now);
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return true;
    }
    return false;
  }

  /** Gives back what tryTake took (the other bucket refused the request). */
  refund(cost: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + cost);
  }

  /** The bucket for a `rate_limits` answer. */
  state(now: number): RateBucket {
    return { remaining: this.remaining(now), burst: this.capacity, perSecond: this.perSecond };
  }

  remaining(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  retryAfterMs(cost: number, now: number): number {
    this.refill(now);
    if (this.tokens >= cost) return 0;
    if (cost > this.capacity) return -1;
    return Math.ceil(((cost - this.tokens) * 1000) / this.perSecond);
  }
}
