/**
 * Public market data: the book mirrors and the public channels (`book.<symbol>`, `trades.<symbol>`,
 * `ticker.<symbol>`) with their subscribers and per-channel seq numbers. Each message is built once per
 * channel and the same string goes to every subscriber.
 */
import type { EngineApi } from '../../engine/api.js';
import type { PublicTrade } from '../protocol/types.js';
import type { Sequencer } from '../sequencer.js';
import { BookMirror } from './book-mirror.js';
import type { Responses } from './responses.js';
import type { Session } from './session.js';

export type PublicKind = 'book' | 'trades' | 'ticker';

/** Changed levels of one book in one command, per side (null: that side did not change). */
export type Levels = [string, string][] | null;

export class MarketData {
  private readonly mirrors = new Map<string, BookMirror>();
  private readonly subs = new Map<string, Set<Session>>();

  constructor(
    private readonly engine: EngineApi,
    private readonly sequencer: Sequencer,
    private readonly responses: Responses,
  ) {}

  /** After recovery: mirror every book as it stands (nothing is unreleased yet). */
  seed(): void {
    for (const spec of this.engine.instruments()) {
      this.mirrors.set(spec.symbol, BookMirror.seed(this.engine, spec.symbol));
    }
  }

  mirror(symbol: string): BookMirror | undefined {
    return this.mirrors.get(symbol);
  }

  /** A new instrument was released: its (empty) book starts being mirrored. */
  addInstrument(symbol: string): void {
    if (!this.mirrors.has(symbol)) this.mirrors.set(symbol, new BookMirror(symbol));
  }

  // ---- subscribers ---------------------------------------------------------------------------------------

  /** Adds `s` to channel `ch` and sends what a new subscriber starts from (book snapshot, ticker). */
  subscribe(s: Session, ch: string, kind: PublicKind, m: BookMirror, depth: number): void {
    let set = this.subs.get(ch);
    if (set === undefined) {
      set = new Set();
      this.subs.set(ch, set);
    }
    set.add(s);
    s.channels.add(ch);
    // Subscribing again to a book is how a client asks for a fresh snapshot.
    if (kind === 'book') this.responses.send(s, this.bookSnapshot(m, ch, depth));
    else if (kind === 'ticker') {
      // A content not sent yet is numbered now, for everyone: the timer would otherwise send it again
      // under the next seq, and one seq would stand for two contents.
      if (!this.advanceTicker(m)) this.responses.send(s, this.tickerMessage(m, ch));
      else this.broadcast(set, this.tickerMessage(m, ch));
    }
  }

  unsubscribe(s: Session, ch: string): void {
    this.subs.get(ch)?.delete(s);
  }

  /** Sends `msg` to every subscriber of `ch`. */
  private broadcast(set: Set<Session>, msg: string): void {
    for (const s of set) this.responses.send(s, msg);
  }

  // ---- per-command updates (released events) -------------------------------------------------------------

  /** One command's changed levels of `symbol`: one delta, the book channel's seq + 1. */
  publishBook(symbol: string, seq: number, ts: number, bids: Levels, asks: Levels): void {
    const m = this.mirrors.get(symbol)!;
    m.seq++;
    const set = this.subs.get(`book.${symbol}`);
    if (set === undefined || set.size === 0) return;
    const msg = JSON.stringify({
      channel: `book.${symbol}`,
      type: 'delta',
      symbol,
      seq: m.seq,
      prevSeq: m.seq - 1,
      engineSeq: seq,
      ts,
      bids: bids ?? [],
      asks: asks ?? [],
      checksum: m.checksum(),
    });
    this.broadcast(set, msg);
  }

  /** One command's trades in `symbol`: one message, the trades channel's seq + 1. */
  publishTrades(symbol: string, seq: number, ts: number, trades: PublicTrade[]): void {
    const m = this.mirrors.get(symbol);
    if (m === undefined) return;
    m.tradeSeq++;
    const set = this.subs.get(`trades.${symbol}`);
    if (set === undefined || set.size === 0) return;
    const msg = JSON.stringify({
      channel: `trades.${symbol}`,
      type: 'trades',
      symbol,
      seq: m.tradeSeq,
      engineSeq: seq,
      ts,
      trades,
    });
    this.broadcast(set, msg);
  }

  // ---- ticker (timer) ------------------------------------------------------------------------------------

  /** Every ticker interval: a ticker message to each subscribed channel whose content changed. */
  tick(): void {
    for (const [ch, set] of this.subs) {
      if (set.size === 0 || !ch.startsWith('ticker.')) continue;
      const m = this.mirrors.get(ch.slice(7));
      if (m === undefined || !this.advanceTicker(m)) continue;
      this.broadcast(set, this.tickerMessage(m, ch));
    }
  }

  /** Numbers the ticker's content if it changed since it was last numbered; true when it did. */
  private advanceTicker(m: BookMirror): boolean {
    const content = `${m.best('BUY')}|${m.best('SELL')}|${m.lastPrice}|${m.markPrice}`;
    if (content === m.lastTicker) return false;
    m.lastTicker = content;
    m.tickerSeq++;
    return true;
  }

  // ---- messages ------------------------------------------------------------------------------------------

  private bookSnapshot(m: BookMirror, ch: string, depth: number): string {
    return JSON.stringify({
      channel: ch,
      type: 'snapshot',
      symbol: m.symbol,
      seq: m.seq,
      engineSeq: this.sequencer.releasedSeq,
      bids: m.levels('BUY', depth),
      asks: m.levels('SELL', depth),
      checksum: m.checksum(),
    });
  }

  private tickerMessage(m: BookMirror, ch: string): string {
    return JSON.stringify({
      channel: ch,
      type: 'ticker',
      symbol: m.symbol,
      seq: m.tickerSeq,
      engineSeq: this.sequencer.releasedSeq,
      bestBid: m.best('BUY'),
      bestAsk: m.best('SELL'),
      lastPrice: m.lastPrice,
      markPrice: m.markPrice,
    });
  }
}
