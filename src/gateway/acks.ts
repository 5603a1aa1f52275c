/**
 * Replies to commands (place, amend, cancel, cancel_all, set_position_tpsl). A command's reply waits here until the batch that
 * holds it is released (output commit), then is built from that command's own events. Waiting replies are
 * a FIFO matched by seq: the sequencer hands seqs out in order, so the head is always the next one due.
 */

import type { RejectReason } from '../../engine/enums.js';
import type { EngineEvent, OrderEvent, OrderState } from '../../engine/events.js';
import type { Metrics } from '../http/metrics.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { Fill, RequestId } from '../protocol/types.js';
import type { Clock } from '../sequencer.js';
import { type AccountViews, isLive } from './account-view.js';
import type { CancelOnDisconnect } from './cancel-on-disconnect.js';
import { fillOf } from './fills.js';
import { type Responses, UNAVAILABLE_RETRY_MS } from './responses.js';
import { fillsJson, orderJson, withoutStamp } from './serialize.js';
import type { Session } from './session.js';

export enum Kind {
  Place,
  Amend,
  Cancel,
  CancelAll,
  PositionTpSl,
}

/** A command's reply, waiting for its release. */
export interface Pending {
  seq: number;
  session: Session;
  id: RequestId;
  idJson: string;
  kind: Kind;
  accountId: number;
  orderId: number;
  clientOrderId: string | undefined;
  /** set_position_tpsl: the position's instrument (its account's other positions are re-emitted too). */
  symbol: string | undefined;
  usIn: number;
  /** One order of a place_batch: its answer fills slot `index` of the batch's reply instead. */
  batch: BatchReply | null;
  index: number;
}

/**
 * The reply to a place_batch: one slot per order, each `{"result": ...}` or `{"error": ...}` as the order's
 * own reply would have been; sent once every slot is filled, in the orders' order.
 */
export class BatchReply {
  private readonly slots: string[];
  private left: number;

  constructor(
    private readonly session: Session,
    private readonly idJson: string,
    private readonly usIn: number,
    n: number,
    private readonly responses: Responses,
  ) {
    this.slots = new Array<string>(n);
    this.left = n;
  }

  result(index: number, resultJson: string): void {
    this.fill(index, `{"result":${resultJson}}`);
  }

  error(index: number, code: ErrorCode, message: string, data?: Record<string, unknown>): void {
    this.fill(
      index,
      JSON.stringify({ error: data === undefined ? { code, message } : { code, message, data } }),
    );
  }

  private fill(index: number, json: string): void {
    if (this.slots[index] !== undefined) return;
    this.slots[index] = json;
    if (--this.left > 0 || this.session.closed) return;
    this.responses.reply(this.session, this.idJson, `{"results":[${this.slots.join(',')}]}`, this.usIn);
  }
}

export class Acks {
  private pending: Pending[] = [];
  private head = 0;

  constructor(
    private readonly views: AccountViews,
    private readonly responses: Responses,
    private readonly cancelOnDisconnect: CancelOnDisconnect,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  get count(): number {
    return this.pending.length - this.head;
  }

  /** The reply to a place_batch of `n` orders, which their Pendings fill. */
  batchReply(s: Session, idJson: string, usIn: number, n: number): BatchReply {
    return new BatchReply(s, idJson, usIn, n, this.responses);
  }

  /** Registers a reply before its command is submitted (a batcher may release inside the submit). */
  expect(p: Pending): void {
    this.pending.push(p);
  }

  /** Nothing was sequenced for `p`: forget its reply (the caller answers the error). */
  forget(p: Pending): void {
    if (this.pending[this.pending.length - 1] === p) this.pending.pop();
    if (p.kind === Kind.Place) this.releaseInflight(p);
  }

  /**
   * The command `seq` (engine time `ts`) was released with `events[start, end)`: answers its reply if one
   * waits. seq and ts come from the command: a command may have no events (cancel_all with nothing live).
   */
  settle(seq: number, ts: number, events: EngineEvent[], start: number, end: number): void {
    let p = this.pending[this.head];
    if (p !== undefined && p.seq < seq) {
      // A reply whose command went by unmatched (a bug): answer it rather than block every later reply.
      this.dropUpTo(seq - 1);
      p = this.pending[this.head];
    }
    if (p !== undefined && p.seq === seq) {
      this.pending[this.head++] = undefined as unknown as Pending;
      if (this.head > 1024 && this.head * 2 > this.pending.length) {
        this.pending = this.pending.slice(this.head);
        this.head = 0;
      }
      this.answer(p, seq, ts, events, start, end);
    }
  }

  /** Answers INTERNAL_ERROR to every waiting reply with seq <= `seq`. */
  dropUpTo(seq: number): void {
    while (this.head < this.pending.length && this.pending[this.head]!.seq <= seq) {
      const p = this.pending[this.head]!;
      this.pending[this.head++] = undefined as unknown as Pending;
      if (p.kind === Kind.Place) this.releaseInflight(p);
      this.fail(p, 'INTERNAL_ERROR', 'internal error; query the order', { seq: p.seq });
    }
  }

  /** The batcher gave up: every waiting reply gets UNAVAILABLE. */
  failAll(): void {
    for (let k = this.head; k < this.pending.length; k++) {
      const p = this.pending[k]!;
      this.fail(p, 'UNAVAILABLE', 'the command could not be made durable', {
        retryAfterMs: UNAVAILABLE_RETRY_MS,
      });
    }
    this.pending = [];
    this.head = 0;
  }

  /** Answers `p` with a result: its own reply, or its slot of a batch's. */
  private ok(p: Pending, resultJson: string): void {
    if (p.batch !== null) p.batch.result(p.index, resultJson);
    else if (!p.session.closed) this.responses.reply(p.session, p.idJson, resultJson, p.usIn);
  }

  /** Answers `p` with an error: its own reply, or its slot of a batch's. */
  private fail(p: Pending, code: ErrorCode, message: string, data?: Record<string, unknown>): void {
    if (p.batch !== null) {
      this.metrics.gatewayErrors.inc(code);
      p.batch.error(p.index, code, message, data);
    } else if (!p.session.closed) this.responses.error(p.session, p.idJson, code, message, p.usIn, data);
  }

  /** The reply to a command, built from its own events. */
  private answer(
    p: Pending,
    seq: number,
    ts: number,
    events: EngineEvent[],
    start: number,
    end: number,
  ): void {
    if (p.kind === Kind.Place) this.releaseInflight(p);
    if (p.kind === Kind.CancelAll) this.answerCancelAll(p, seq, ts, events, start, end);
    else if (p.kind === Kind.PositionTpSl) this.answerPosition(p, seq, ts, events, start, end);
    else this.answerOrder(p, seq, ts, events, start, end);
  }

  /** A released (or failed) place no longer counts as in flight: open-order limit, client order id. */
  private releaseInflight(p: Pending): void {
    const v = this.views.get(p.accountId);
    if (v === undefined) return;
    v.inflightPlaces--;
    if (p.clientOrderId !== undefined) v.releaseClientId(p.clientOrderId);
  }

  private answerCancelAll(
    p: Pending,
    seq: number,
    ts: number,
    events: EngineEvent[],
    start: number,
    end: number,
  ): void {
    const cancelled: OrderState[] = [];
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      if (e.type === 'rejected') return this.refusedByEngine(p, e.reason, seq, ts);
      if (e.type === 'order' && e.accountId === p.accountId && e.status === 'CANCELLED') cancelled.push(e);
    }
    this.ok(p, JSON.stringify({ cancelled, seq, ts }));
    this.metrics.ackLatency.observeUs(this.clock.nowMicros() - p.usIn);
  }

  /** set_position_tpsl: the position as the command left it. */
  private answerPosition(
    p: Pending,
    seq: number,
    ts: number,
    events: EngineEvent[],
    start: number,
    end: number,
  ): void {
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      if (e.type === 'rejected') return this.refusedByEngine(p, e.reason, seq, ts);
      if (e.type === 'position' && e.accountId === p.accountId && e.symbol === p.symbol) {
        const { type: _type, seq: _seq, ts: _ts, ...position } = e;
        this.ok(p, JSON.stringify({ position, seq, ts }));
        this.metrics.ackLatency.observeUs(this.clock.nowMicros() - p.usIn);
        return;
      }
    }
    this.fail(p, 'INTERNAL_ERROR', 'the engine reported nothing for this command', { seq, ts });
  }

  /**
   * The engine refused the command as a whole (a `rejected` event): the reply is that refusal. The engine
   * keeps live orders only, so to it an order that ended is unknown; when the account's view still
   * remembers it, the trader learns that it ended and how (ORDER_NOT_LIVE with the order), not that the id
   * is wrong.
   */
  private refusedByEngine(p: Pending, reason: RejectReason, seq: number, ts: number): void {
    if (reason === 'UNKNOWN_ORDER' && (p.kind === Kind.Cancel || p.kind === Kind.Amend)) {
      const ended = this.endedOrder(p);
      if (ended !== undefined) {
        return this.fail(p, 'ORDER_NOT_LIVE', `order ${ended.orderId} is ${ended.status}`, {
          order: withoutStamp(ended),
          seq,
          ts,
        });
      }
    }
    this.fail(p, reason, `refused by the engine: ${reason}`, { seq, ts });
  }

  /** The ended order a cancel or amend named, if the account's view remembers it. */
  private endedOrder(p: Pending): OrderState | undefined {
    const v = this.views.get(p.accountId);
    if (v === undefined) return undefined;
    const o =
      p.orderId !== 0
        ? v.orderById(p.orderId)
        : p.clientOrderId !== undefined
          ? v.orderByClientId(p.clientOrderId)
          : undefined;
    return o !== undefined && !isLive(o) ? o : undefined;
  }

  /** place, amend, cancel: the order the command acted on, and its fills. */
  private answerOrder(
    p: Pending,
    seq: number,
    ts: number,
    events: EngineEvent[],
    start: number,
    end: number,
  ): void {
    const s = p.session;
    let order: OrderEvent | undefined;
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      if (e.type === 'rejected') return this.refusedByEngine(p, e.reason, seq, ts);
      if (e.type === 'order' && e.accountId === p.accountId && isTheOrder(p, e)) {
        order = e;
        break;
      }
    }
    if (order === undefined) {
      return this.fail(p, 'INTERNAL_ERROR', 'the engine reported nothing for this command', { seq, ts });
    }
    if (p.kind === Kind.Place) this.cancelOnDisconnect.placed(s, order);
    if (s.closed) return;
    if (order.status === 'REJECTED') {
      const code = order.rejectionReason ?? 'INVALID_COMMAND';
      return this.fail(p, code, `refused by the engine: ${code}`, { order: withoutStamp(order), seq, ts });
    }
    const fills = fillsOf(order, events, start, end);
    this.ok(p, `{"order":${orderJson(order)},"fills":${fillsJson(fills)},"seq":${seq},"ts":${ts}}`);
    this.metrics.ackLatency.observeUs(this.clock.nowMicros() - p.usIn);
  }
}

/**
 * place: the new order is the first order the command touched (engine event order);
 * amend/cancel: the order named by the request.
 */
function isTheOrder(p: Pending, e: OrderEvent): boolean {
  return (
    p.kind === Kind.Place || (p.orderId !== 0 ? e.orderId === p.orderId : e.clientOrderId === p.clientOrderId)
  );
}

/** The order's fills among the command's events, as its side saw them. */
function fillsOf(order: OrderState, events: EngineEvent[], start: number, end: number): Fill[] {
  const fills: Fill[] = [];
  for (let k = start; k < end; k++) {
    const e = events[k]!;
    if (e.type !== 'trade') continue;
    if (e.takerOrderId === order.orderId) fills.push(fillOf(e, false, order.clientOrderId));
    else if (e.makerOrderId === order.orderId) fills.push(fillOf(e, true, order.clientOrderId));
  }
  return fills;
}
