/**
 * Read-only account requests (open_orders, order_status, positions, account, recent_fills), answered from
 * the account's view (released state only) once the engine seq current at the request is released.
 */
import type { EngineApi } from '../../engine/api.js';
import type { Method, OpenOrdersParams, OrderRefParams, RecentFillsParams } from '../protocol/types.js';
import type { Sequencer } from '../sequencer.js';
import type { AccountView, AccountViews } from './account-view.js';
import type { Deferrals } from './deferred.js';
import type { Responses } from './responses.js';
import type { Session } from './session.js';

export class Queries {
  constructor(
    private readonly engine: EngineApi,
    private readonly sequencer: Sequencer,
    private readonly views: AccountViews,
    private readonly deferrals: Deferrals,
    private readonly responses: Responses,
  ) {}

  query(s: Session, idJson: string, acc: number, m: Method, params: unknown, usIn: number): void {
    const v = this.views.open(acc);
    this.deferrals.defer(s, idJson, usIn, Math.max(this.engine.lastSeq, v.seedSeq), () =>
      this.answer(s, idJson, acc, v, m, params, usIn),
    );
  }

  private answer(
    s: Session,
    idJson: string,
    acc: number,
    v: AccountView,
    m: Method,
    params: unknown,
    usIn: number,
  ): void {
    const r = this.responses;
    const seq = this.sequencer.releasedSeq;
    switch (m) {
      case 'open_orders':
        return r.reply(
          s,
          idJson,
          JSON.stringify({ orders: v.openOrders((params as OpenOrdersParams).symbol), seq }),
          usIn,
        );
      case 'order_status': {
        const p = params as OrderRefParams;
        const o = p.orderId !== undefined ? v.orderById(p.orderId) : v.orderByClientId(p.clientOrderId!);
        if (o === undefined) {
          return r.error(
            s,
            idJson,
            'UNKNOWN_ORDER',
            `no such order in account ${acc} (or no longer remembered)`,
            usIn,
          );
        }
        return r.reply(s, idJson, JSON.stringify({ order: o, seq }), usIn);
      }
      case 'positions':
        return r.reply(s, idJson, JSON.stringify({ positions: [...v.positions.values()], seq }), usIn);
      case 'account':
        if (v.account === null)
          return r.error(s, idJson, 'UNKNOWN_ACCOUNT', `account ${acc} has no state`, usIn);
        return r.reply(s, idJson, JSON.stringify({ account: v.account, seq }), usIn);
      case 'recent_fills':
        return r.reply(
          s,
          idJson,
          JSON.stringify({ fills: v.fills.last((params as RecentFillsParams).limit ?? 100), seq }),
          usIn,
        );
    }
  }
}
