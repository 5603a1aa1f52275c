/**
 * Cancel-on-disconnect: a session opts in (`cancel_on_disconnect`) for its own orders (scope `connection`)
 * or for whole accounts (scope `account`); when its socket closes the gateway submits the cancels. For the
 * connection scope it tracks the live orders placed over the session, including orders still in flight
 * when the socket closed.
 */
import type { EngineApi } from '../../engine/api.js';
import type { CommandBody } from '../../engine/commands.js';
import type { OrderState } from '../../engine/events.js';
import type { Logger } from '../log.js';
import type { CancelOnDisconnectParams } from '../protocol/types.js';
import type { Sequencer } from '../sequencer.js';
import { isLive } from './account-view.js';
import type { Session } from './session.js';

export class CancelOnDisconnect {
  constructor(
    private readonly engine: EngineApi,
    private readonly sequencer: Sequencer,
    private readonly log: Logger,
    private readonly maxOpenOrders: number,
    /** Sequences a command (throws when the gateway is not open). */
    private readonly submit: (body: CommandBody) => number,
    /** The accounts a session may use (scope `account` cancels them all). */
    private readonly accountsOf: (s: Session) => number[],
  ) {}

  /** `cancel_on_disconnect`: sets the session's scope; returns the reply's result. */
  configure(s: Session, p: CancelOnDisconnectParams): string {
    s.cancelOnDisconnect = p.enabled ? p.scope! : 'off';
    return JSON.stringify({ enabled: p.enabled, scope: p.scope });
  }

  /** The session's socket closed: cancel what it asked to have cancelled. */
  disconnected(s: Session): void {
    if (s.cancelOnDisconnect === 'off' || !this.sequencer.accepting) return;
    try {
      if (s.cancelOnDisconnect === 'account') {
        for (const acc of this.accountsOf(s))
          this.submit({ type: 'cancel_all', accountId: acc, source: 'DISCONNECT' });
      } else {
        for (const orderId of s.placedOrders) {
          const o = this.engine.order(orderId);
          if (o !== undefined && isLive(o))
            this.submit({ type: 'cancel_order', accountId: o.accountId, orderId, source: 'DISCONNECT' });
        }
      }
    } catch (e) {
      this.log.warn({ err: e, session: s.id }, 'cancel-on-disconnect failed');
    }
  }

  /**
   * An order placed over `s` was acked (released): a live one is remembered whatever the scope, since the
   * connection scope, turned on later, covers the orders placed before too; with that scope an order whose
   * connection went away while it was in flight is cancelled at once.
   */
  placed(s: Session, order: OrderState): void {
    if (!isLive(order)) return;
    if (s.closed) {
      if (s.cancelOnDisconnect === 'connection' && this.sequencer.accepting)
        this.submit({
          type: 'cancel_order',
          accountId: order.accountId,
          orderId: order.orderId,
          source: 'DISCONNECT',
        });
      return;
    }
    s.placedOrders.add(order.orderId);
    if (s.placedOrders.size > 4 * this.maxOpenOrders) this.forgetEnded(s);
  }

  /** Orders that ended since (fills, cancels) are dropped now and then, so the set tracks live orders. */
  private forgetEnded(s: Session): void {
    for (const id of s.placedOrders) {
      const o = this.engine.order(id);
      if (o === undefined || !isLive(o)) s.placedOrders.delete(id);
    }
  }
}
