/**
 * What the gateway knows of one account, built only from released batches (so nothing it answers from here
 * can be ahead of output commit): live orders, final orders it still remembers, recent fills, positions,
 * the account, and the account's private stream (gap-free seq, bounded buffer for resume).
 *
 * A view is created when a session first touches the account, seeded from the engine at `seedSeq`; events
 * with seq <= seedSeq are already in the seed and are skipped. Answers from a view wait (in the gateway)
 * until `seedSeq` is released, since the seed may be ahead of what clients have been told.
 */
import type { EngineApi } from '../../engine/api.js';
import type { AccountState, LedgerEntry, OrderState, PositionState } from '../../engine/events.js';
import type { Fill, PrivateSnapshot, PrivateUpdate } from '../protocol/types.js';
import type { Session } from './session.js';

export function isLive(o: OrderState): boolean {
  return o.status === 'NEW' || o.status === 'PARTIALLY_FILLED' || o.status === 'PENDING_TRIGGER';
}

/**
 * Fixed-capacity ring; `at(i)` counts from the oldest kept entry. Its array grows with use up to the
 * capacity: most accounts never fill their rings, and a view holds three of them (an empty view cost 34 kB
 * when they were allocated whole).
 */
export class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;
  size = 0;
  constructor(readonly capacity: number) {}
  push(v: T): void {
    if (this.size < this.capacity) {
      // Not full yet, so `start` is still 0 and the next slot is the end of the array.
      this.items.push(v);
      this.size++;
    } else {
      this.items[this.start] = v;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  at(i: number): T {
    return this.items[(this.start + i) % this.capacity]!;
  }
  last(n: number): T[] {
    const k = Math.min(n, this.size);
    const out: T[] = new Array(k);
    for (let i = 0; i < k; i++) out[i] = this.at(this.size - k + i);
    return out;
  }
}

export interface ViewLimits {
  bufferSize: number;
  finalOrders: number;
  fills: number;
}

export class AccountView {
  streamSeq = 0;
  readonly buffer: Ring<PrivateUpdate>;
  readonly subscribers = new Set<Session>();
  readonly live = new Map<number, OrderState>();
  private readonly liveByCoid = new Map<string, number>();
  /**
   * Final orders, newest last. A ring, not a map: most orders end at once (IOC, fills), and a map churned
   * at that rate cost more than the rare lookup scanning the ring (newest first) does.
   */
  private readonly final: Ring<OrderState> | null;
  readonly fills: Ring<Fill>;
  readonly positions = new Map<string, PositionState>();
  account: AccountState | null;
  /** place commands sequenced but not yet released: counted against the open-order limit. */
  inflightPlaces = 0;
  /**
   * Client order ids of the last ended orders (at most `finalOrders`, oldest first) and of places
   * sequenced but not yet released: a place reusing one is refused before it reaches the engine, which
   * itself only refuses ids of live orders. So a retry after a timeout never opens a second order, even
   * when the first one has already filled (docs/protocol.md, "place").
   */
  private readonly endedByCoid = new Map<string, OrderState>();
  private readonly inflightCoids = new Map<string, number>();
  private readonly coidWindow: number;
  readonly seedSeq: number;
  /** Set by the first private subscription: from then on every command's update is numbered and kept. */
  streaming = false;
  /** Engine seq of the last order change the view took: it may be dropped once the database has that seq. */
  changedSeq = 0;
  /** The update being assembled for the command now being routed (null between commands). */
  pending: PrivateUpdate | null = null;

  constructor(
    readonly accountId: number,
    readonly epoch: string,
    engine: EngineApi,
    limits: ViewLimits,
  ) {
    this.seedSeq = engine.lastSeq;
    this.final = limits.finalOrders > 0 ? new Ring(limits.finalOrders) : null;
    this.coidWindow = limits.finalOrders;
    for (const o of engine.openOrders(accountId)) this.putOrder(o);
    for (const p of engine.positions(accountId)) this.positions.set(p.symbol, p);
    this.account = engine.account(accountId) ?? null;
    this.buffer = new Ring(limits.bufferSize);
    this.fills = new Ring(limits.fills);
  }

  putOrder(o: OrderState): void {
    if (isLive(o)) {
      this.live.set(o.orderId, o);
      if (o.clientOrderId !== null) this.liveByCoid.set(o.clientOrderId, o.orderId);
      return;
    }
    if (this.live.delete(o.orderId) && o.clientOrderId !== null) {
      if (this.liveByCoid.get(o.clientOrderId) === o.orderId) this.liveByCoid.delete(o.clientOrderId);
    }
    this.final?.push(o);
    const coid = o.clientOrderId;
    // A refused order never traded, so a place retried under its id cannot trade twice: the id stays free,
    // as it is for a place refused before it became an order (bad price...). A trader re-quoting a refused
    // post-only order can reuse it. (This also keeps a refused duplicate from displacing the first order.)
    if (coid !== null && this.coidWindow > 0 && o.status !== 'REJECTED') {
      this.endedByCoid.delete(coid); // re-inserted as the newest
      this.endedByCoid.set(coid, o);
      if (this.endedByCoid.size > this.coidWindow) {
        this.endedByCoid.delete(this.endedByCoid.keys().next().value!);
      }
    }
  }

  /** Reading the window back from the database (at the account's first login since the start), once. */
  archiveSeeding: Promise<void> | null = null;

  /** The window's size (FINAL_ORDERS_REMEMBERED): how many ended orders a restart re-reads (seedEnded). */
  get clientIdWindow(): number {
    return this.coidWindow;
  }

  /**
   * Ended orders read back from the database after a restart, newest first: they enter the window of
   * client order ids behind anything the view learnt since it opened (which is newer).
   */
  seedEnded(newestFirst: readonly OrderState[]): void {
    const known = this.endedByCoid;
    const merged = new Map<string, OrderState>();
    for (let i = newestFirst.length - 1; i >= 0; i--) {
      const o = newestFirst[i]!;
      if (o.status === 'REJECTED') continue; // as in putOrder
      if (o.clientOrderId !== null && !known.has(o.clientOrderId) && !this.liveByCoid.has(o.clientOrderId))
        merged.set(o.clientOrderId, o);
    }
    if (merged.size === 0) return;
    for (const [coid, o] of known) merged.set(coid, o); // the view's own, newer, stay the newest
    known.clear();
    for (const [coid, o] of merged) known.set(coid, o);
    while (known.size > this.coidWindow) known.delete(known.keys().next().value!);
  }

  /**
   * Why a place with this client order id must be refused, or null: an ended order of the window used it
   * (returned, so the trader learns its outcome), or a place with it is still in flight.
   */
  clientIdInUse(coid: string): OrderState | 'in_flight' | null {
    return this.endedByCoid.get(coid) ?? (this.inflightCoids.has(coid) ? 'in_flight' : null);
  }

  /** A place with this client order id is being sequenced: in flight until its reply is released. */
  holdClientId(coid: string): void {
    this.inflightCoids.set(coid, (this.inflightCoids.get(coid) ?? 0) + 1);
  }

  /** ... and released (or failed). */
  releaseClientId(coid: string): void {
    const n = this.inflightCoids.get(coid);
    if (n === undefined) return;
    if (n <= 1) this.inflightCoids.delete(coid);
    else this.inflightCoids.set(coid, n - 1);
  }

  private findFinal(match: (o: OrderState) => boolean): OrderState | undefined {
    const f = this.final;
    if (f === null) return undefined;
    for (let i = f.size - 1; i >= 0; i--) {
      const o = f.at(i);
      if (match(o)) return o;
    }
    return undefined;
  }

  orderById(orderId: number): OrderState | undefined {
    return this.live.get(orderId) ?? this.findFinal((o) => o.orderId === orderId);
  }

  /** A live order first (client order ids are unique among live orders), else the newest final one. */
  orderByClientId(coid: string): OrderState | undefined {
    const id = this.liveByCoid.get(coid);
    if (id !== undefined) return this.live.get(id);
    return this.findFinal((o) => o.clientOrderId === coid);
  }

  openOrders(symbol?: string): OrderState[] {
    const out: OrderState[] = [];
    for (const o of this.live.values()) if (symbol === undefined || o.symbol === symbol) out.push(o);
    return out;
  }

  /** Starts this command's private update. */
  begin(engineSeq: number, ts: number): PrivateUpdate {
    const u: PrivateUpdate = {
      channel: 'private',
      type: 'update',
      accountId: this.accountId,
      epoch: this.epoch,
      seq: 0,
      engineSeq,
      ts,
      orders: [],
      fills: [],
      positions: [],
      account: null,
      ledger: [],
    };
    this.pending = u;
    return u;
  }

  addLedger(e: LedgerEntry): void {
    this.pending!.ledger.push(e);
  }

  /** Closes the command's update: numbers it and keeps it for resume. Returns it for fan-out. */
  commit(): PrivateUpdate {
    const u = this.pending!;
    this.pending = null;
    u.seq = ++this.streamSeq;
    this.buffer.push(u);
    return u;
  }

  /** Buffered updates after `fromSeq`, or undefined when the buffer no longer reaches back that far. */
  since(fromSeq: number): PrivateUpdate[] | undefined {
    if (fromSeq > this.streamSeq) return undefined;
    const oldest = this.streamSeq - this.buffer.size + 1;
    if (fromSeq + 1 < oldest) return undefined;
    const out: PrivateUpdate[] = [];
    for (let s = fromSeq + 1; s <= this.streamSeq; s++) out.push(this.buffer.at(s - oldest));
    return out;
  }

  snapshot(engineSeq: number): PrivateSnapshot {
    return {
      channel: 'private',
      type: 'snapshot',
      accountId: this.accountId,
      epoch: this.epoch,
      seq: this.streamSeq,
      engineSeq,
      openOrders: [...this.live.values()],
      positions: [...this.positions.values()],
      account: this.account,
    };
  }
}

/** Why a view may not be dropped yet, or null when it may (AccountViews.sweep). */
export function keepReason(v: AccountView, persistedSeq: number): string | null {
  if (v.subscribers.size > 0) return 'subscribed';
  if (v.inflightPlaces > 0 || v.pending !== null) return 'in flight';
  // What the view knew must be in the database, where order_status and the next login look instead.
  if (v.changedSeq > persistedSeq) return 'not persisted';
  return null;
}

/**
 * The gateway's views, one per account, created on first use (login, a request, a subscription). Every
 * module that reads or feeds a view goes through this registry.
 *
 * A view lives while its account's user is connected, and for `idleMs` after (sweep): without that, every
 * account ever used since the start kept its rings of orders, fills and stream updates (megabytes for an
 * active account) until the process ran out of heap. A view opened again after being dropped starts a new
 * stream epoch, so a client resuming from the old one gets a snapshot instead of a wrong numbering.
 */
export class AccountViews {
  private readonly byAccount = new Map<number, AccountView>();
  /** Views dropped so far: a view opened after any drop takes an epoch of its own. */
  private dropped = 0;
  private opened = 0;

  constructor(
    private readonly epoch: string,
    private readonly engine: EngineApi,
    private readonly limits: ViewLimits,
  ) {}

  get size(): number {
    return this.byAccount.size;
  }

  get droppedTotal(): number {
    return this.dropped;
  }

  /** The view of `accountId`, or undefined while nobody has used the account yet. */
  get(accountId: number): AccountView | undefined {
    return this.byAccount.get(accountId);
  }

  /** The view of `accountId`, seeded from the engine now if it does not exist yet. */
  open(accountId: number): AccountView {
    let v = this.byAccount.get(accountId);
    if (v === undefined) {
      this.opened++;
      const epoch = this.dropped === 0 ? this.epoch : `${this.epoch}.${this.opened}`;
      v = new AccountView(accountId, epoch, this.engine, this.limits);
      this.byAccount.set(accountId, v);
    }
    return v;
  }

  /**
   * Drops the views whose user has been away for the idle time (`away`) and that hold nothing the database
   * does not have yet (keepReason). Returns how many were dropped.
   */
  sweep(persistedSeq: number, away: (userId: number) => boolean): number {
    let n = 0;
    for (const [id, v] of this.byAccount) {
      // No owner: a matching engine without the risk core, where keys name bare account ids; kept.
      const owner = this.engine.accountOwner(id);
      if (owner === undefined || !away(owner)) continue;
      if (keepReason(v, persistedSeq) !== null) continue;
      this.byAccount.delete(id);
      n++;
    }
    this.dropped += n;
    return n;
  }
}
