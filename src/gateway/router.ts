/**
 * Released batches out to clients. For each command in a batch, in seq order, its events update the
 * gateway's released state (account views, book mirrors) and go out as stream messages (public book delta
 * and trades, then private updates), then the command's own reply; then queries waiting on the batch run.
 * Output order per command is fixed: trades, book deltas (one per book the command changed, in the order
 * first changed), private updates, ack.
 */
import type { EngineEvent } from '../../engine/events.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { Batch } from '../pipeline/types.js';
import type { PublicTrade } from '../protocol/types.js';
import type { Clock } from '../sequencer.js';
import type { AccountViews } from './account-view.js';
import type { Acks } from './acks.js';
import type { Deferrals } from './deferred.js';
import { fillOf } from './fills.js';
import type { Levels, MarketData } from './market-data.js';
import type { PrivateStreams } from './private-streams.js';
import type { Responses } from './responses.js';

/** The levels one command changed in one book. */
interface BookChange {
  symbol: string;
  bids: Levels;
  asks: Levels;
}

export class Router {
  constructor(
    private readonly views: AccountViews,
    private readonly market: MarketData,
    private readonly privateStreams: PrivateStreams,
    private readonly acks: Acks,
    private readonly deferrals: Deferrals,
    private readonly responses: Responses,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  release(batch: Batch): void {
    const now = this.clock.nowMicros();
    const events = batch.events;
    const commands = batch.commands;
    this.metrics.batches.inc();
    this.metrics.batchCommands.inc('', commands.length);
    // A batch may be released inside a uWS callback (a batcher sealing a full batch during push), where only
    // the calling socket is corked: everything goes through the outboxes, one corked write per socket, flushed
    // once the callback has returned and released the cork.
    const direct = this.responses.direct;
    this.responses.direct = false;
    let i = 0;
    try {
      for (let c = 0; c < commands.length; c++) {
        const cmd = commands[c]!;
        const start = i;
        while (i < events.length && events[i]!.seq === cmd.seq) i++;
        try {
          this.route(cmd.seq, cmd.ts, events, start, i);
        } catch (e) {
          // One command's routing failing must not cost the rest of the batch their replies.
          this.log.error({ err: e, seq: cmd.seq }, 'routing a released command failed');
          // Close the private updates it had begun (the views took those events): one left open would absorb
          // the account's later updates and its stream would never send again.
          this.privateStreams.publish();
          this.acks.dropUpTo(cmd.seq);
        }
        if (c === 0) this.metrics.releaseLatency.observeUs(now - cmd.ts);
      }
      this.deferrals.runDue(batch.toSeq);
    } catch (e) {
      this.log.error(
        { err: e, fromSeq: batch.fromSeq, toSeq: batch.toSeq },
        'routing a released batch failed',
      );
    }
    this.responses.flushUnlessInCallback();
    this.responses.direct = direct;
  }

  /** Everything one command caused: account views, private streams, public feeds, then the reply. */
  private route(seq: number, ts: number, events: EngineEvent[], start: number, end: number): void {
    const streams = this.privateStreams;
    streams.beginCommand();
    // One delta per book per command (its seq counts commands): a command's book events may alternate
    // between books (a cancel_all over several instruments), so levels are gathered per symbol.
    let books: BookChange[] | null = null;
    let hasTrades = false;
    const views = this.views;
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      switch (e.type) {
        case 'order': {
          if (e.status === 'REJECTED') this.metrics.rejects.inc(e.rejectionReason ?? 'UNKNOWN');
          const v = views.get(e.accountId);
          if (v !== undefined && seq > v.seedSeq) {
            v.putOrder(e);
            v.changedSeq = seq;
            streams.update(v, seq, ts)?.orders.push(e);
          }
          break;
        }
        case 'trade':
          hasTrades = true;
          break;
        case 'position': {
          const v = views.get(e.accountId);
          if (v !== undefined && seq > v.seedSeq) {
            v.positions.set(e.symbol, e);
            streams.update(v, seq, ts)?.positions.push(e);
          }
          break;
        }
        case 'account': {
          const v = views.get(e.accountId);
          if (v !== undefined && seq > v.seedSeq) {
            v.account = e;
            const u = streams.update(v, seq, ts);
            if (u !== null) u.account = e;
          }
          break;
        }
        case 'ledger': {
          const v = views.get(e.accountId);
          if (v !== undefined && seq > v.seedSeq) streams.update(v, seq, ts)?.ledger.push(e);
          break;
        }
        case 'book': {
          // Levels are collected per book; a command touching a second book closes the first one's delta.
          const m = this.market.mirror(e.symbol);
          if (m === undefined) break;
          m.apply(e.side, e.price, e.quantity);
          if (books === null) books = [];
          let b =
            books.length > 0 && books[books.length - 1]!.symbol === e.symbol
              ? books[books.length - 1]
              : undefined;
          if (b === undefined) {
            b = books.find((x) => x.symbol === e.symbol);
            if (b === undefined) {
              b = { symbol: e.symbol, bids: null, asks: null };
              books.push(b);
            }
          }
          const level: [string, string] = [e.price, e.quantity];
          if (e.side === 'BUY') {
            if (b.bids === null) b.bids = [level];
            else b.bids.push(level);
          } else if (b.asks === null) b.asks = [level];
          else b.asks.push(level);
          break;
        }
        case 'instrument_created':
          this.market.addInstrument(e.symbol);
          break;
        case 'mark_price': {
          const m = this.market.mirror(e.symbol);
          if (m !== undefined) m.markPrice = e.price;
          break;
        }
        case 'rejected':
          this.metrics.rejects.inc(e.reason);
          break;
      }
    }
    if (hasTrades) this.routeTrades(seq, ts, events, start, end);
    if (books !== null) for (const b of books) this.market.publishBook(b.symbol, seq, ts, b.bids, b.asks);
    streams.publish();
    this.acks.settle(seq, ts, events, start, end);
  }

  /** The command's trades: public trades per symbol, last price, and each watched side's fill. */
  private routeTrades(seq: number, ts: number, events: EngineEvent[], start: number, end: number): void {
    let symbol: string | null = null;
    let trades: PublicTrade[] = [];
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      if (e.type !== 'trade') continue;
      if (symbol !== null && symbol !== e.symbol) {
        this.market.publishTrades(symbol, seq, ts, trades);
        trades = [];
      }
      symbol = e.symbol;
      trades.push({ tradeId: e.tradeId, price: e.price, quantity: e.quantity, takerSide: e.takerSide });
      const m = this.market.mirror(e.symbol);
      if (m !== undefined) m.lastPrice = e.price;
      const mv = this.views.get(e.makerAccountId);
      if (mv !== undefined && seq > mv.seedSeq) {
        const f = fillOf(e, true, mv.orderById(e.makerOrderId)?.clientOrderId ?? null);
        mv.fills.push(f);
        this.privateStreams.update(mv, seq, ts)?.fills.push(f);
      }
      const tv = this.views.get(e.takerAccountId);
      if (tv !== undefined && seq > tv.seedSeq) {
        const f = fillOf(e, false, tv.orderById(e.takerOrderId)?.clientOrderId ?? null);
        tv.fills.push(f);
        this.privateStreams.update(tv, seq, ts)?.fills.push(f);
      }
    }
    if (symbol !== null) this.market.publishTrades(symbol, seq, ts, trades);
  }
}
