/**
 * Trader commands (place, amend, cancel, cancel_all): request params to engine command, sequenced, with the
 * reply registered in Acks to be answered from the released batch. Also the single way anything in the
 * gateway submits to the sequencer (cancel-on-disconnect uses `submit` too).
 */
import type { CommandBody, PlaceOrder } from '../../engine/commands.js';
import type { Metrics } from '../http/metrics.js';
import type {
  AmendParams,
  CancelAllParams,
  PlaceBatchParams,
  PlaceParams,
  RequestId,
  SetPositionTpSlParams,
} from '../protocol/types.js';
import { type Sequencer, SequencerClosedError } from '../sequencer.js';
import type { AccountViews } from './account-view.js';
import { type Acks, type BatchReply, Kind, type Pending } from './acks.js';
import type { Admission } from './admission.js';
import { Refusal, UNAVAILABLE_RETRY_MS } from './responses.js';
import { withoutStamp } from './serialize.js';
import type { Session } from './session.js';

export class Commands {
  /** Whether new commands are taken (false while recovering and after shutdown began). */
  open = false;

  constructor(
    private readonly sequencer: Sequencer,
    private readonly views: AccountViews,
    private readonly acks: Acks,
    private readonly admission: Admission,
    private readonly metrics: Metrics,
    private readonly maxOpenOrders: number,
  ) {}

  /** Sequences a command; returns its seq. */
  submit(body: CommandBody): number {
    if (!this.open) throw new SequencerClosedError('not open');
    const r = this.sequencer.submit(body);
    this.metrics.commands.inc(body.type);
    return r.seq;
  }

  /**
   * place_batch: each order as a `place` of its own, sequenced back to back (no other command comes between
   * them); one reply with an answer per order, once the last is released. An order refused before the
   * engine (open-order limit, a client order id in use, load shedding) takes its slot at once.
   */
  placeBatch(
    s: Session,
    id: RequestId,
    idJson: string,
    acc: number,
    p: PlaceBatchParams,
    usIn: number,
  ): void {
    const batch = this.acks.batchReply(s, idJson, usIn, p.orders.length);
    for (let i = 0; i < p.orders.length; i++) {
      try {
        this.place(s, id, idJson, acc, p.orders[i]!, usIn, batch, i);
      } catch (e) {
        if (e instanceof Refusal) batch.error(i, e.code, e.message, e.data);
        else if (e instanceof SequencerClosedError)
          batch.error(i, 'UNAVAILABLE', 'the server is not accepting commands', {
            retryAfterMs: UNAVAILABLE_RETRY_MS,
          });
        else throw e;
      }
    }
  }

  place(
    s: Session,
    id: RequestId,
    idJson: string,
    acc: number,
    p: PlaceParams,
    usIn: number,
    batch: BatchReply | null = null,
    index = 0,
  ): void {
    // Every refusal comes before the in-flight counts below are taken: from there on, the reply's
    // release (or its failure) gives them back (Acks.releaseInflight).
    this.admit('place_order');
    const v = this.views.open(acc);
    if (v.live.size + v.inflightPlaces >= this.maxOpenOrders) {
      throw new Refusal('TOO_MANY_OPEN_ORDERS', `account ${acc} has too many open orders`, {
        limit: this.maxOpenOrders,
      });
    }
    const coid = p.clientOrderId;
    if (coid !== undefined) {
      const used = v.clientIdInUse(coid);
      if (used === 'in_flight') {
        throw new Refusal(
          'DUPLICATE_CLIENT_ORDER_ID',
          `a place with client order id ${coid} is already in flight; wait for its reply`,
        );
      }
      if (used !== null) {
        throw new Refusal(
          'DUPLICATE_CLIENT_ORDER_ID',
          `client order id ${coid} was used by order ${used.orderId}, now ${used.status}: not placed again`,
          { order: withoutStamp(used) },
        );
      }
      v.holdClientId(coid);
    }
    v.inflightPlaces++;
    const reply = pending(s, id, idJson, Kind.Place, acc, 0, p.clientOrderId, usIn);
    reply.batch = batch;
    reply.index = index;
    this.sequenceWithReply(placeOrder(acc, p), reply);
  }

  amendOrCancel(
    s: Session,
    id: RequestId,
    idJson: string,
    acc: number,
    m: 'amend' | 'cancel',
    p: AmendParams,
    usIn: number,
  ): void {
    // Another account's order is refused by the engine exactly like a missing one (UNKNOWN_ORDER), so ids
    // and client order ids cannot be probed.
    const ref = p.orderId !== undefined ? { orderId: p.orderId } : { clientOrderId: p.clientOrderId! };
    let cmd: CommandBody;
    if (m === 'cancel') cmd = { type: 'cancel_order', accountId: acc, ...ref };
    else {
      cmd = { type: 'amend_order', accountId: acc, ...ref };
      if (p.price !== undefined) cmd.price = p.price;
      if (p.quantity !== undefined) cmd.quantity = p.quantity;
    }
    const kind = m === 'cancel' ? Kind.Cancel : Kind.Amend;
    this.submitWithReply(cmd, pending(s, id, idJson, kind, acc, p.orderId ?? 0, p.clientOrderId, usIn));
  }

  cancelAll(s: Session, id: RequestId, idJson: string, acc: number, p: CancelAllParams, usIn: number): void {
    const cmd: CommandBody =
      p.symbol === undefined
        ? { type: 'cancel_all', accountId: acc }
        : { type: 'cancel_all', accountId: acc, symbol: p.symbol };
    this.submitWithReply(cmd, pending(s, id, idJson, Kind.CancelAll, acc, 0, undefined, usIn));
  }

  setPositionTpSl(
    s: Session,
    id: RequestId,
    idJson: string,
    acc: number,
    p: SetPositionTpSlParams,
    usIn: number,
  ): void {
    const cmd: CommandBody = { type: 'set_position_tpsl', accountId: acc, symbol: p.symbol };
    if (p.stopLoss !== undefined) cmd.stopLoss = p.stopLoss;
    if (p.takeProfit !== undefined) cmd.takeProfit = p.takeProfit;
    const reply = pending(s, id, idJson, Kind.PositionTpSl, acc, 0, undefined, usIn);
    reply.symbol = p.symbol;
    this.submitWithReply(cmd, reply);
  }

  /**
   * Sequences a command whose reply comes from its released batch. The reply is registered before the
   * submit: a batcher may release synchronously inside push (a full batch, or fast mode), and the release
   * must find its request waiting.
   */
  private submitWithReply(cmd: CommandBody, p: Pending): void {
    this.admit(cmd.type);
    this.sequenceWithReply(cmd, p);
  }

  /** Refuses a command while closed or while persisting lags (load shedding). */
  private admit(type: CommandBody['type']): void {
    if (!this.open) throw new SequencerClosedError('not open');
    this.admission.checkBacklog(type);
  }

  private sequenceWithReply(cmd: CommandBody, p: Pending): void {
    p.seq = this.sequencer.lastSeq + 1;
    this.acks.expect(p);
    try {
      const seq = this.submit(cmd);
      if (seq !== p.seq) throw new Error(`sequencer stamped ${seq}, expected ${p.seq}`);
    } catch (e) {
      this.acks.forget(p);
      throw e;
    }
  }
}

function placeOrder(acc: number, p: PlaceParams): PlaceOrder {
  const cmd: PlaceOrder = {
    type: 'place_order',
    accountId: acc,
    symbol: p.symbol,
    side: p.side,
    orderType: p.orderType,
    timeInForce: p.timeInForce!,
    quantity: p.quantity,
  };
  if (p.price !== undefined) cmd.price = p.price;
  if (p.stopPrice !== undefined) cmd.stopPrice = p.stopPrice;
  if (p.postOnly !== undefined) cmd.postOnly = p.postOnly;
  if (p.reduceOnly !== undefined) cmd.reduceOnly = p.reduceOnly;
  if (p.clientOrderId !== undefined) cmd.clientOrderId = p.clientOrderId;
  if (p.leverage !== undefined) cmd.leverage = p.leverage;
  return cmd;
}

function pending(
  session: Session,
  id: RequestId,
  idJson: string,
  kind: Kind,
  accountId: number,
  orderId: number,
  clientOrderId: string | undefined,
  usIn: number,
): Pending {
  return {
    seq: 0,
    session,
    id,
    idJson,
    kind,
    accountId,
    orderId,
    clientOrderId,
    symbol: undefined,
    usIn,
    batch: null,
    index: 0,
  };
}
