/**
 * Read-only account requests (open_orders, order_status, positions, account, recent_fills), answered from
 * the account's view (released state only) once the engine seq current at the request is released.
 *
 * order_status alone may go further: an order the view does not know (finished longer ago than the view
 * remembers, or before a restart) is looked up in the order archive (order-archive.ts, the `orders` table),
 * when the server configured one. The view wins whenever it knows the order: it is the released state, the
 * archive may lag it. An archive answer is never ahead of what clients were told: a row written from a batch
 * not yet released here waits for that release (and then the view, which has it by then, answers).
 */
import type { EngineApi } from '../../engine/api.js';
import type { Logger } from '../log.js';
import type { Method, OpenOrdersParams, OrderRefParams, RecentFillsParams } from '../protocol/types.js';
import type { Sequencer } from '../sequencer.js';
import type { AccountView, AccountViews } from './account-view.js';
import type { Deferrals } from './deferred.js';
import type { ArchivedOrder, OrderArchive } from './order-archive.js';
import { type Responses, UNAVAILABLE_RETRY_MS } from './responses.js';
import { orderJson } from './serialize.js';
import type { Session } from './session.js';

export interface ArchiveOptions {
  archive: OrderArchive;
  /** ms an archive lookup may take before the request is answered UNAVAILABLE. Default 3000. */
  timeoutMs?: number;
  /** Archive lookups in flight at once; beyond it, UNAVAILABLE at once (the pool serves API keys too). Default 16. */
  maxInFlight?: number;
}

class ArchiveTimeout extends Error {}

export class Queries {
  private readonly archive: OrderArchive | null;
  private readonly archiveTimeoutMs: number;
  private readonly archiveMaxInFlight: number;
  private archiveInFlight = 0;

  constructor(
    private readonly engine: EngineApi,
    private readonly sequencer: Sequencer,
    private readonly views: AccountViews,
    private readonly deferrals: Deferrals,
    private readonly responses: Responses,
    private readonly log: Logger,
    archive: ArchiveOptions | null = null,
  ) {
    this.archive = archive?.archive ?? null;
    this.archiveTimeoutMs = archive?.timeoutMs ?? 3000;
    this.archiveMaxInFlight = archive?.maxInFlight ?? 16;
  }

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
        if (this.fromView(s, idJson, v, p, seq, usIn)) return;
        if (this.archive === null) return this.unknownOrder(s, idJson, acc, usIn);
        return this.fromArchive(s, idJson, acc, v, p, usIn);
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

  /** Answers from the view when it knows the order (live, or final and still remembered). */
  private fromView(
    s: Session,
    idJson: string,
    v: AccountView,
    p: OrderRefParams,
    seq: number,
    usIn: number,
  ): boolean {
    const o = p.orderId !== undefined ? v.orderById(p.orderId) : v.orderByClientId(p.clientOrderId!);
    if (o === undefined) return false;
    // orderJson: exactly the OrderState fields (a view keeps the order's event, stamp included).
    this.responses.reply(s, idJson, `{"order":${orderJson(o)},"seq":${seq},"source":"memory"}`, usIn);
    return true;
  }

  private unknownOrder(s: Session, idJson: string, acc: number, usIn: number): void {
    this.responses.error(
      s,
      idJson,
      'UNKNOWN_ORDER',
      this.archive === null
        ? `no such order in account ${acc} (or no longer remembered)`
        : `no such order in account ${acc}`,
      usIn,
    );
  }

  private fromArchive(
    s: Session,
    idJson: string,
    acc: number,
    v: AccountView,
    p: OrderRefParams,
    usIn: number,
  ): void {
    const r = this.responses;
    if (this.archiveInFlight >= this.archiveMaxInFlight) {
      return r.error(s, idJson, 'UNAVAILABLE', 'order archive busy, retry shortly', usIn, {
        retryAfterMs: 100,
      });
    }
    this.archiveInFlight++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ArchiveTimeout(`no answer within ${this.archiveTimeoutMs} ms`)),
        this.archiveTimeoutMs,
      );
    });
    const ref = p.orderId !== undefined ? { orderId: p.orderId } : { clientOrderId: p.clientOrderId! };
    // Settles exactly once, whichever comes first; a lookup still running after its timeout is left to the
    // pool's statement timeout.
    let lookup: Promise<ArchivedOrder | null>;
    try {
      lookup = this.archive!.find(acc, ref);
    } catch (err) {
      lookup = Promise.reject(err);
    }
    Promise.race([lookup, timeout])
      .then(
        (found) => {
          clearTimeout(timer);
          this.archiveInFlight--;
          if (s.closed) return;
          if (found === null) return this.unknownOrder(s, idJson, acc, usIn);
          // A worker may write a batch a moment before it is released here: wait for the release, so nothing
          // unreleased is told. By then the view has the order if it is live or recently final.
          this.deferrals.defer(s, idJson, usIn, found.seq, () => {
            if (!this.fromView(s, idJson, v, p, this.sequencer.releasedSeq, usIn))
              this.archived(s, idJson, found, usIn);
          });
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.archiveInFlight--;
          this.log.warn(
            { err, accountId: acc, ...ref, timeout: err instanceof ArchiveTimeout },
            'order_status: order archive lookup failed',
          );
          if (!s.closed)
            r.error(s, idJson, 'UNAVAILABLE', 'order archive unavailable, retry later', usIn, {
              retryAfterMs: UNAVAILABLE_RETRY_MS,
            });
        },
      )
      // Nothing above should throw; if it does, log it rather than crash on an unhandled rejection.
      .catch((err: unknown) => this.log.error({ err }, 'order_status: answering from the archive failed'));
  }

  private archived(s: Session, idJson: string, found: ArchivedOrder, usIn: number): void {
    this.responses.reply(
      s,
      idJson,
      `{"order":${orderJson(found.order)},"seq":${found.seq},"source":"archive"}`,
      usIn,
    );
  }
}
