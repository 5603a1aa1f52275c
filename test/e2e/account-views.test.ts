/**
 * The gateway's per-account memory is bounded by who is connected: a view is dropped once its user has been
 * away for the idle time and the database holds everything the view knew (src/gateway/account-view.ts,
 * presence.ts). Here the rules one by one, on the registry itself; account-view-drop.test.ts runs them
 * through a real server, worker and database.
 */
import { describe, expect, test } from 'vitest';
import type { EngineApi } from '../../engine/api.js';
import type { OrderState } from '../../engine/events.js';
import { AccountViews, keepReason, Ring } from '../../src/gateway/account-view.js';
import { Admission } from '../../src/gateway/admission.js';
import { Presence } from '../../src/gateway/presence.js';

/** Accounts 1 and 2 belong to user 10, account 3 to user 20. */
const engine = {
  lastSeq: 0,
  openOrders: () => [],
  positions: () => [],
  account: () => undefined,
  accountOwner: (id: number) => (id === 3 ? 20 : id <= 2 ? 10 : undefined),
} as unknown as EngineApi;

const LIMITS = { bufferSize: 2000, finalOrders: 1000, fills: 1000 };
const IDLE = 60_000;

function setup() {
  const views = new AccountViews('ep', engine, LIMITS);
  const presence = new Presence();
  const sweep = (persisted: number, now: number) =>
    views.sweep(persisted, (user) => presence.away(user, now, IDLE));
  return { views, presence, sweep };
}

describe('account views', () => {
  test('stay while their user is connected and for the idle time after; then go', () => {
    const { views, presence, sweep } = setup();
    presence.connected(10);
    views.open(1);
    views.open(2);
    expect(sweep(100, 0)).toBe(0);
    presence.disconnected(10, 1_000);
    expect(sweep(100, 1_000 + IDLE - 1)).toBe(0);
    expect(views.size).toBe(2);
    expect(sweep(100, 1_000 + IDLE)).toBe(2);
    expect(views.size).toBe(0);
    expect(views.droppedTotal).toBe(2);
  });

  test('a second connection of the same user keeps them; only the last one leaving starts the clock', () => {
    const { views, presence, sweep } = setup();
    presence.connected(10);
    presence.connected(10);
    views.open(1);
    presence.disconnected(10, 0);
    expect(sweep(100, 10 * IDLE)).toBe(0);
    presence.disconnected(10, 5_000);
    expect(sweep(100, 5_000 + IDLE)).toBe(1);
  });

  test("another user's connection does not keep them", () => {
    const { views, presence, sweep } = setup();
    presence.connected(20);
    views.open(1);
    views.open(3);
    expect(sweep(100, 0)).toBe(1); // user 10 never connected: away
    expect(views.get(1)).toBeUndefined();
    expect(views.get(3)).toBeDefined();
  });

  test('are kept while a change is not persisted, a place is in flight, or someone subscribes', () => {
    const { views, sweep } = setup();
    const v = views.open(1);
    v.changedSeq = 50;
    expect(keepReason(v, 49)).toBe('not persisted');
    expect(sweep(49, 0)).toBe(0);
    v.inflightPlaces = 1;
    expect(keepReason(v, 50)).toBe('in flight');
    v.inflightPlaces = 0;
    v.subscribers.add({} as never);
    expect(keepReason(v, 50)).toBe('subscribed');
    v.subscribers.clear();
    expect(keepReason(v, 50)).toBeNull();
    expect(sweep(50, 0)).toBe(1);
  });

  test('are never dropped for an account without an owner (no risk core: keys name bare account ids)', () => {
    const { views, sweep } = setup();
    views.open(99);
    expect(sweep(100, 10 * IDLE)).toBe(0);
  });

  test('a view opened again after a drop has a new epoch; before any drop the epoch is the server one', () => {
    const { views, sweep } = setup();
    const first = views.open(1);
    expect(first.epoch).toBe('ep');
    expect(sweep(0, 0)).toBe(1);
    const again = views.open(1);
    expect(again).not.toBe(first);
    expect(again.epoch).not.toBe('ep');
    expect(again.epoch.startsWith('ep.')).toBe(true);
    // and it starts empty: what it knew is the database's to answer now
    expect(again.streamSeq).toBe(0);
    expect(again.clientIdInUse('x')).toBeNull();
  });

  test('a user away long enough is forgotten, and counts as away afterwards', () => {
    const presence = new Presence();
    presence.connected(10);
    presence.disconnected(10, 0);
    presence.forgetAway(IDLE - 1, IDLE);
    expect(presence.away(10, IDLE - 1, IDLE)).toBe(false);
    presence.forgetAway(IDLE, IDLE);
    expect(presence.away(10, IDLE, IDLE)).toBe(true);
    presence.connected(10);
    expect(presence.away(10, 10 * IDLE, IDLE)).toBe(false);
  });
});

describe('ring', () => {
  test('keeps the newest `capacity` entries in order, growing its array only as entries come', () => {
    const r = new Ring<number>(3);
    expect(r.last(5)).toEqual([]);
    r.push(1);
    r.push(2);
    expect(r.last(5)).toEqual([1, 2]);
    expect((r as unknown as { items: number[] }).items.length).toBe(2);
    for (let i = 3; i <= 7; i++) r.push(i);
    expect(r.size).toBe(3);
    expect(r.last(3)).toEqual([5, 6, 7]);
    expect(r.last(2)).toEqual([6, 7]);
    expect([r.at(0), r.at(1), r.at(2)]).toEqual([5, 6, 7]);
    expect((r as unknown as { items: number[] }).items.length).toBe(3);
  });

  test('an empty view costs little: its rings hold no array slots until used', () => {
    const views = new AccountViews('ep', engine, LIMITS);
    const v = views.open(1);
    const ring = v.fills as unknown as { items: unknown[] };
    expect(ring.items.length).toBe(0);
    v.putOrder({ orderId: 1, status: 'FILLED', clientOrderId: null } as unknown as OrderState);
    expect(v.orderById(1)?.status).toBe('FILLED');
  });
});

describe('account rate buckets', () => {
  test('are forgotten once refilled to their burst (a new one would be the same), kept while spent', () => {
    const admission = new Admission({} as never, {
      accountRateBurst: 100,
      accountRatePerSec: 10,
      maxBacklog: 1,
      maxPersistLag: 0,
    });
    const session = { bucket: { refund: () => {} } } as never;
    admission.takeAccount(session, 1, 50, 0);
    admission.takeAccount(session, 2, 1, 0);
    expect(admission.accountBucketCount).toBe(2);
    expect(admission.forgetFullBuckets(50)).toBe(0); // 0.05 s: half a unit back, neither full
    expect(admission.forgetFullBuckets(1_000)).toBe(1); // account 2 (1 spent) is full again
    expect(admission.accountBucketCount).toBe(1);
    expect(admission.forgetFullBuckets(4_000)).toBe(0); // account 1: 50 spent, 40 back
    expect(admission.forgetFullBuckets(5_000)).toBe(1); // ... and 50 after 5 s
    expect(admission.accountBucketCount).toBe(0);
  });
});
