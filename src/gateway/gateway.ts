/**
 * The gateway's protocol logic, independent of the socket library: requests in, engine commands to the
 * sequencer, replies and stream messages out of released batches only (output commit).
 *
 * Three kinds of answers:
 * - refusals that need no engine state (bad input, rate limits, auth): at once;
 * - commands (place, amend, cancel, cancel_all): from the released batch that holds the command, matched by
 *   seq (`pending`, a FIFO, since seqs are handed out in order);
 * - queries: from the gateway's released state (account views, book mirrors), deferred until the engine
 *   seq current at the request is released, so a client reads its own writes and never anything unreleased.
 */
import { randomBytes } from 'node:crypto';
import type { EngineApi } from '../../engine/api.js';
import type { CommandBody, PlaceOrder } from '../../engine/commands.js';
import type { EngineEvent, OrderEvent, OrderState, TradeEvent } from '../../engine/events.js';
import type { Config } from '../config.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { Batch } from '../pipeline/types.js';
import type { ErrorCode } from '../protocol/errors.js';
import { verify } from '../protocol/sign.js';
import type {
  AccountScoped,
  AmendParams,
  AuthParams,
  CancelAllParams,
  CancelOnDisconnectParams,
  Fill,
  Method,
  OpenOrdersParams,
  OrderRefParams,
  PlaceParams,
  PrivateUpdate,
  PublicTrade,
  RecentFillsParams,
  RequestId,
  SubscribeParams,
  UnsubscribeParams,
} from '../protocol/types.js';
import { ParamError, VALIDATORS } from '../protocol/validate.js';
import { type Clock, type Sequencer, SequencerClosedError } from '../sequencer.js';
import { AccountView, isLive } from './account-view.js';
import { BookMirror } from './book-mirror.js';
import type { KeyStore } from './keys.js';
import { NonceCache } from './nonces.js';
import { costOf, TokenBucket } from './rate-limit.js';
import { fillsJson, orderJson } from './serialize.js';
import type { Session } from './session.js';

type GatewayConfig = Pick<
  Config,
  | 'maxMessageBytes'
  | 'connRateBurst'
  | 'connRatePerSec'
  | 'accountRateBurst'
  | 'accountRatePerSec'
  | 'maxOpenOrders'
  | 'maxBacklog'
  | 'authWindowMs'
  | 'privateBufferSize'
  | 'finalOrdersRemembered'
  | 'recentFillsRemembered'
  | 'tickerIntervalMs'
>;

enum Kind {
  Place,
  Amend,
  Cancel,
  CancelAll,
}

interface Pending {
  seq: number;
  session: Session;
  id: RequestId;
  idJson: string;
  kind: Kind;
  accountId: number;
  orderId: number;
  clientOrderId: string | undefined;
  usIn: number;
}

interface Deferred {
  seq: number;
  run: () => void;
  /** Who waits, so a dead batcher can still answer them. */
  session: Session;
  idJson: string;
  usIn: number;
}

/** Public market data needs no login; `subscribe` checks auth itself for the private channel. */
const AUTH_FREE: ReadonlySet<string> = new Set(['auth', 'time', 'ping', 'subscribe', 'unsubscribe']);

class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function idJsonOf(id: RequestId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

function fillOf(t: TradeEvent, maker: boolean, clientOrderId: string | null): Fill {
  return {
    tradeId: t.tradeId,
    orderId: maker ? t.makerOrderId : t.takerOrderId,
    clientOrderId,
    symbol: t.symbol,
    side: maker ? (t.takerSide === 'BUY' ? 'SELL' : 'BUY') : t.takerSide,
    price: t.price,
    quantity: t.quantity,
    liquidity: maker ? 'MAKER' : 'TAKER',
    fee: maker ? t.makerFee : t.takerFee,
    feeRate: maker ? t.makerFeeRate : t.takerFeeRate,
    realizedPnl: maker ? t.makerRealizedPnl : t.takerRealizedPnl,
    seq: t.seq,
    ts: t.ts,
  };
}

export interface GatewayDeps {
  engine: EngineApi;
  sequencer: Sequencer;
  keys: KeyStore;
  config: GatewayConfig;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
}

export class Gateway {
  /** Private streams restart with a new epoch when the server does: a resume across restarts gets a snapshot. */
  readonly epoch = randomBytes(6).toString('hex');
  readonly sessions = new Set<Session>();
  private readonly views = new Map<number, AccountView>();
  private readonly mirrors = new Map<string, BookMirror>();
  private readonly subs = new Map<string, Set<Session>>();
  private readonly accountBuckets = new Map<number, TokenBucket>();
  private pending: Pending[] = [];
  private pendingHead = 0;
  private deferred: Deferred[] = [];
  private readonly touched: Session[] = [];
  private readonly touchedViews: AccountView[] = [];
  private flushScheduled = false;
  /** True while inside a uWS callback: sends go out directly (uWS corks them). */
  private direct = false;
  private readonly nonces: NonceCache;
  private tickerTimer: NodeJS.Timeout | null = null;
  private readonly engine: EngineApi;
  private readonly sequencer: Sequencer;
  private readonly cfg: GatewayConfig;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly clock: Clock;
  private readonly keys: KeyStore;
  /** Whether new commands are taken (false while recovering and after shutdown began). */
  open = false;
  /** The batcher gave up: nothing more will be released. */
  private failed = false;

  constructor(deps: GatewayDeps) {
    this.engine = deps.engine;
    this.sequencer = deps.sequencer;
    this.cfg = deps.config;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.clock = deps.clock;
    this.keys = deps.keys;
    this.nonces = new NonceCache(deps.config.authWindowMs);
    deps.sequencer.batcher.onRelease((b) => this.release(b));
  }

  /** After recovery: mirror every book as it stands (nothing is unreleased yet) and start taking orders. */
  start(): void {
    for (const spec of this.engine.instruments()) {
      this.mirrors.set(spec.symbol, BookMirror.seed(this.engine, spec.symbol));
    }
    this.tickerTimer = setInterval(() => this.tick(), this.cfg.tickerIntervalMs);
    this.tickerTimer.unref();
    this.open = true;
  }

  stop(): void {
    this.open = false;
    if (this.tickerTimer) clearInterval(this.tickerTimer);
  }

  get pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  // ---- connection lifecycle ----------------------------------------------------------------------------

  opened(s: Session): void {
    this.sessions.add(s);
    this.metrics.connectionsOpened.inc();
  }

  closed(s: Session): void {
    s.markClosed();
    this.sessions.delete(s);
    for (const ch of s.channels) {
      if (ch.startsWith('private:')) this.views.get(Number(ch.slice(8)))?.subscribers.delete(s);
      else this.subs.get(ch)?.delete(s);
    }
    s.channels.clear();
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

  /** The accounts a session may use: the key's, or (key unrestricted) all of its user's. */
  private accountsOf(s: Session): number[] {
    const k = s.key!;
    if (k.accountIds.length > 0) return k.accountIds;
    return this.engine.accountsOfUser(s.userId).map((a) => a.accountId);
  }

  private allowed(s: Session, accountId: number): boolean {
    const k = s.key!;
    if (k.accountIds.length > 0) return k.accountIds.includes(accountId);
    return this.engine.account(accountId)?.userId === s.userId;
  }

  // ---- requests ----------------------------------------------------------------------------------------

  /** One text message from a socket. Runs inside the uWS message callback. */
  message(s: Session, text: string, usIn: number): void {
    this.direct = true;
    try {
      this.handle(s, text, usIn);
    } finally {
      this.direct = false;
    }
  }

  tooLarge(s: Session, bytes: number, usIn: number): void {
    this.direct = true;
    try {
      this.error(s, 'null', 'MESSAGE_TOO_LARGE', `message of ${bytes} bytes exceeds the limit`, usIn, {
        limit: this.cfg.maxMessageBytes,
      });
    } finally {
      this.direct = false;
    }
  }

  private handle(s: Session, text: string, usIn: number): void {
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch {
      return this.error(s, 'null', 'PARSE_ERROR', 'message is not valid JSON', usIn);
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      return this.error(s, 'null', 'INVALID_REQUEST', 'a request is an object {id, method, params}', usIn);
    }
    const r = req as { id?: unknown; method?: unknown; params?: unknown };
    const id = r.id;
    if (
      !((typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length <= 64))
    ) {
      return this.error(
        s,
        'null',
        'INVALID_REQUEST',
        'id must be an integer or a string of up to 64 characters',
        usIn,
      );
    }
    const idJson = idJsonOf(id);
    const method = r.method;
    if (typeof method !== 'string' || !Object.hasOwn(VALIDATORS, method)) {
      return this.error(s, idJson, 'METHOD_NOT_FOUND', `unknown method ${JSON.stringify(method)}`, usIn);
    }
    const m = method as Method;
    if (!s.authenticated && !AUTH_FREE.has(m)) {
      return this.error(s, idJson, 'UNAUTHENTICATED', `${m} needs an authenticated connection (auth)`, usIn);
    }
    let params: unknown;
    try {
      params = VALIDATORS[m](r.params);
    } catch (e) {
      if (e instanceof ParamError) {
        return this.error(s, idJson, 'INVALID_PARAMS', e.message, usIn, {
          field: e.field,
          expected: e.expected,
        });
      }
      throw e;
    }
    const now = performance.now();
    const cost = costOf(m, m === 'place' && (params as PlaceParams).reduceOnly === true);
    if (!s.bucket.tryTake(cost, now)) {
      return this.error(s, idJson, 'RATE_LIMITED', 'connection rate limit exceeded', usIn, {
        scope: 'connection',
        retryAfterMs: s.bucket.retryAfterMs(cost, now),
        remaining: s.bucket.remaining(now),
      });
    }
    try {
      this.dispatch(s, m, id, idJson, params, usIn, cost, now);
    } catch (e) {
      if (e instanceof Refusal) return this.error(s, idJson, e.code, e.message, usIn, e.data);
      if (e instanceof SequencerClosedError) {
        return this.error(s, idJson, 'UNAVAILABLE', 'the server is not accepting commands', usIn);
      }
      this.log.error({ err: e, method: m }, 'request failed');
      return this.error(s, idJson, 'INTERNAL_ERROR', 'internal error', usIn);
    }
  }

  private dispatch(
    s: Session,
    m: Method,
    id: RequestId,
    idJson: string,
    params: unknown,
    usIn: number,
    cost: number,
    now: number,
  ): void {
    switch (m) {
      case 'time':
      case 'ping':
        return this.reply(s, idJson, `{"serverTime":${usIn}}`, usIn);
      case 'auth':
        return this.auth(s, idJson, params as AuthParams, usIn);
      case 'cancel_on_disconnect': {
        const p = params as CancelOnDisconnectParams;
        s.cancelOnDisconnect = p.enabled ? p.scope! : 'off';
        return this.reply(s, idJson, JSON.stringify({ enabled: p.enabled, scope: p.scope }), usIn);
      }
      case 'subscribe':
        return this.subscribe(s, idJson, params as SubscribeParams, usIn);
      case 'unsubscribe':
        return this.unsubscribe(s, idJson, params as UnsubscribeParams, usIn);
    }
    // Everything else is account-scoped.
    const acc = this.account(s, (params as AccountScoped).accountId);
    let bucket = this.accountBuckets.get(acc);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.cfg.accountRateBurst, this.cfg.accountRatePerSec, now);
      this.accountBuckets.set(acc, bucket);
    }
    if (!bucket.tryTake(cost, now)) {
      s.bucket.refund(cost);
      throw new Refusal('RATE_LIMITED', 'account rate limit exceeded', {
        scope: 'account',
        retryAfterMs: bucket.retryAfterMs(cost, now),
        remaining: bucket.remaining(now),
      });
    }
    switch (m) {
      case 'place':
        return this.place(s, id, idJson, acc, params as PlaceParams, usIn);
      case 'amend':
      case 'cancel':
        return this.amendOrCancel(s, id, idJson, acc, m, params as AmendParams, usIn);
      case 'cancel_all':
        return this.cancelAll(s, id, idJson, acc, params as CancelAllParams, usIn);
      default:
        return this.query(s, idJson, acc, m, params, usIn);
    }
  }

  private account(s: Session, requested: number | undefined): number {
    const acc = requested ?? s.defaultAccountId;
    if (acc === 0) throw new Refusal('FORBIDDEN', 'this key has no account; pass accountId');
    if (!this.allowed(s, acc))
      throw new Refusal('FORBIDDEN', `account ${acc} is not accessible with this key`);
    return acc;
  }

  private view(accountId: number): AccountView {
    let v = this.views.get(accountId);
    if (v === undefined) {
      v = new AccountView(accountId, this.epoch, this.engine, {
        bufferSize: this.cfg.privateBufferSize,
        finalOrders: this.cfg.finalOrdersRemembered,
        fills: this.cfg.recentFillsRemembered,
      });
      this.views.set(accountId, v);
    }
    return v;
  }

  /**
   * Load shedding: when the queue falls behind (commands sequenced but not released, or batches not yet
   * enqueued in fast mode), new trader commands are refused with a retry hint instead of piling up in
   * memory without bound. Cancels are let through: de-risking must stay possible.
   */
  private checkBacklog(kind?: string): void {
    if (kind === 'cancel_order' || kind === 'cancel_all') return;
    const unreleased = this.sequencer.lastSeq - this.sequencer.releasedSeq;
    const pendingBatches = (this.sequencer.batcher as { pending?: number }).pending ?? 0;
    if (unreleased > this.cfg.maxBacklog || pendingBatches * 100 > this.cfg.maxBacklog) {
      throw new Refusal('UNAVAILABLE', 'the exchange is behind on persisting; retry shortly', {
        retryAfterMs: 50,
        backlog: unreleased,
      });
    }
  }

  private submit(body: CommandBody): number {
    if (!this.open) throw new SequencerClosedError('not open');
    const r = this.sequencer.submit(body);
    this.metrics.commands.inc(body.type);
    return r.seq;
  }

  /**
   * Sequences a command whose reply comes from its released batch. The reply is registered before the
   * submit: a batcher may release synchronously inside push (a full batch, or fast mode), and the release
   * must find its request waiting.
   */
  private submitWithReply(cmd: CommandBody, p: Pending): void {
    if (!this.open) throw new SequencerClosedError('not open');
    this.checkBacklog(cmd.type);
    p.seq = this.sequencer.lastSeq + 1;
    this.pending.push(p);
    try {
      const seq = this.submit(cmd);
      if (seq !== p.seq) throw new Error(`sequencer stamped ${seq}, expected ${p.seq}`);
    } catch (e) {
      // Nothing was sequenced: forget the reply (the caller answers the error).
      if (this.pending[this.pending.length - 1] === p) this.pending.pop();
      if (p.kind === Kind.Place) {
        const v = this.views.get(p.accountId);
        if (v !== undefined) v.inflightPlaces--;
      }
      throw e;
    }
  }

  private place(s: Session, id: RequestId, idJson: string, acc: number, p: PlaceParams, usIn: number): void {
    const v = this.view(acc);
    if (v.live.size + v.inflightPlaces >= this.cfg.maxOpenOrders) {
      throw new Refusal('TOO_MANY_OPEN_ORDERS', `account ${acc} has too many open orders`, {
        limit: this.cfg.maxOpenOrders,
      });
    }
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
    v.inflightPlaces++;
    this.submitWithReply(cmd, {
      seq: 0,
      session: s,
      id,
      idJson,
      kind: Kind.Place,
      accountId: acc,
      orderId: 0,
      clientOrderId: p.clientOrderId,
      usIn,
    });
  }

  private amendOrCancel(
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
    this.submitWithReply(cmd, {
      seq: 0,
      session: s,
      id,
      idJson,
      kind: m === 'cancel' ? Kind.Cancel : Kind.Amend,
      accountId: acc,
      orderId: p.orderId ?? 0,
      clientOrderId: p.clientOrderId,
      usIn,
    });
  }

  private cancelAll(
    s: Session,
    id: RequestId,
    idJson: string,
    acc: number,
    p: CancelAllParams,
    usIn: number,
  ): void {
    const cmd: CommandBody =
      p.symbol === undefined
        ? { type: 'cancel_all', accountId: acc }
        : { type: 'cancel_all', accountId: acc, symbol: p.symbol };
    this.submitWithReply(cmd, {
      seq: 0,
      session: s,
      id,
      idJson,
      kind: Kind.CancelAll,
      accountId: acc,
      orderId: 0,
      clientOrderId: undefined,
      usIn,
    });
  }

  private query(s: Session, idJson: string, acc: number, m: Method, params: unknown, usIn: number): void {
    const v = this.view(acc);
    this.defer(s, idJson, usIn, Math.max(this.engine.lastSeq, v.seedSeq), () => {
      const seq = this.sequencer.releasedSeq;
      switch (m) {
        case 'open_orders':
          return this.reply(
            s,
            idJson,
            JSON.stringify({ orders: v.openOrders((params as OpenOrdersParams).symbol), seq }),
            usIn,
          );
        case 'order_status': {
          const p = params as OrderRefParams;
          const o = p.orderId !== undefined ? v.orderById(p.orderId) : v.orderByClientId(p.clientOrderId!);
          if (o === undefined) {
            return this.error(
              s,
              idJson,
              'UNKNOWN_ORDER',
              `no such order in account ${acc} (or no longer remembered)`,
              usIn,
            );
          }
          return this.reply(s, idJson, JSON.stringify({ order: o, seq }), usIn);
        }
        case 'positions':
          return this.reply(s, idJson, JSON.stringify({ positions: [...v.positions.values()], seq }), usIn);
        case 'account':
          if (v.account === null)
            return this.error(s, idJson, 'UNKNOWN_ACCOUNT', `account ${acc} has no state`, usIn);
          return this.reply(s, idJson, JSON.stringify({ account: v.account, seq }), usIn);
        case 'recent_fills':
          return this.reply(
            s,
            idJson,
            JSON.stringify({ fills: v.fills.last((params as RecentFillsParams).limit ?? 100), seq }),
            usIn,
          );
      }
    });
  }

  // ---- auth --------------------------------------------------------------------------------------------

  private auth(s: Session, idJson: string, p: AuthParams, usIn: number): void {
    if (s.authenticated || s.authPending) {
      return this.error(s, idJson, 'ALREADY_AUTHENTICATED', 'this connection is authenticated already', usIn);
    }
    const nowMs = Date.now();
    if (Math.abs(nowMs - p.timestamp) > this.cfg.authWindowMs) {
      return this.error(s, idJson, 'STALE_TIMESTAMP', 'timestamp outside the accepted window', usIn, {
        serverTimeMs: nowMs,
        windowMs: this.cfg.authWindowMs,
      });
    }
    s.authPending = true;
    this.keys.get(p.apiKey).then(
      (rec) => {
        s.authPending = false;
        if (s.closed) return;
        if (
          rec === undefined ||
          rec.revokedAt !== null ||
          !verify(rec.secretHash, p.timestamp, p.nonce, p.apiKey, p.signature)
        ) {
          return this.error(s, idJson, 'INVALID_SIGNATURE', 'unknown API key or wrong signature', usIn);
        }
        // Recorded only after the signature checks out: nobody can burn another key's nonces.
        if (!this.nonces.use(p.apiKey, p.nonce, Date.now())) {
          return this.error(s, idJson, 'NONCE_REUSED', 'nonce already used with this key', usIn);
        }
        s.key = rec;
        s.userId = rec.userId;
        const accounts = this.accountsOf(s);
        s.defaultAccountId = accounts[0] ?? 0;
        // Views start here: live orders, final orders and fills are remembered from login on.
        for (const a of accounts) this.view(a);
        this.reply(s, idJson, JSON.stringify({ userId: rec.userId, accountIds: accounts }), usIn);
      },
      (err: unknown) => {
        s.authPending = false;
        this.log.error({ err }, 'key store lookup failed');
        this.error(s, idJson, 'UNAVAILABLE', 'key store unavailable, retry', usIn);
      },
    );
  }

  // ---- subscriptions -----------------------------------------------------------------------------------

  private subscribe(s: Session, idJson: string, p: SubscribeParams, usIn: number): void {
    const ch = p.channel;
    if (ch === 'private') {
      if (!s.authenticated)
        throw new Refusal('UNAUTHENTICATED', 'the private channel needs an authenticated connection');
      const acc = this.account(s, p.accountId);
      const v = this.view(acc);
      this.defer(s, idJson, usIn, v.seedSeq, () => {
        if (s.closed) return;
        this.reply(s, idJson, JSON.stringify({ channel: 'private', accountId: acc }), usIn);
        const missed = p.fromSeq !== undefined && p.epoch === this.epoch ? v.since(p.fromSeq) : undefined;
        if (missed !== undefined) for (const u of missed) this.out(s, JSON.stringify(u));
        else this.out(s, JSON.stringify(v.snapshot(this.sequencer.releasedSeq)));
        v.subscribers.add(s);
        v.streaming = true;
        s.channels.add(`private:${acc}`);
      });
      return;
    }
    const dot = ch.indexOf('.');
    const kind = dot > 0 ? ch.slice(0, dot) : '';
    const mirror = this.mirrors.get(ch.slice(dot + 1));
    if (mirror === undefined || (kind !== 'book' && kind !== 'trades' && kind !== 'ticker')) {
      throw new Refusal('UNKNOWN_CHANNEL', `no channel ${JSON.stringify(ch)}`, {
        channels: ['private', 'book.<symbol>', 'trades.<symbol>', 'ticker.<symbol>'],
      });
    }
    this.reply(s, idJson, JSON.stringify({ channel: ch }), usIn);
    let set = this.subs.get(ch);
    if (set === undefined) {
      set = new Set();
      this.subs.set(ch, set);
    }
    set.add(s);
    s.channels.add(ch);
    // Subscribing again to a book is how a client asks for a fresh snapshot.
    if (kind === 'book') this.out(s, this.bookSnapshot(mirror, ch, p.depth ?? Number.MAX_SAFE_INTEGER));
    else if (kind === 'ticker') this.out(s, this.tickerMessage(mirror, ch));
  }

  private bookSnapshot(m: BookMirror, ch: string, depth: number): string {
    return JSON.stringify({
      channel: ch,
      type: 'snapshot',
      symbol: m.symbol,
      seq: m.seq,
      engineSeq: this.sequencer.releasedSeq,
      bids: m.levels('BUY', depth),
      asks: m.levels('SELL', depth),
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

  private unsubscribe(s: Session, idJson: string, p: UnsubscribeParams, usIn: number): void {
    let key = p.channel;
    if (key === 'private' && !s.authenticated)
      throw new Refusal('NOT_SUBSCRIBED', 'not subscribed to "private"');
    if (key === 'private') key = `private:${this.account(s, p.accountId)}`;
    if (!s.channels.delete(key)) {
      throw new Refusal('NOT_SUBSCRIBED', `not subscribed to ${JSON.stringify(p.channel)}`);
    }
    if (key.startsWith('private:')) this.views.get(Number(key.slice(8)))?.subscribers.delete(s);
    else this.subs.get(key)?.delete(s);
    this.reply(s, idJson, JSON.stringify({ channel: p.channel }), usIn);
  }

  private tick(): void {
    for (const [ch, set] of this.subs) {
      if (set.size === 0 || !ch.startsWith('ticker.')) continue;
      const m = this.mirrors.get(ch.slice(7));
      if (m === undefined) continue;
      const content = `${m.best('BUY')}|${m.best('SELL')}|${m.lastPrice}|${m.markPrice}`;
      if (content === m.lastTicker) continue;
      m.lastTicker = content;
      m.tickerSeq++;
      const msg = this.tickerMessage(m, ch);
      for (const s of set) this.out(s, msg);
    }
  }

  // ---- output ------------------------------------------------------------------------------------------

  private out(s: Session, msg: string): void {
    if (this.direct) s.send(msg);
    else if (s.post(msg)) {
      this.touched.push(s);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const t = this.touched;
    for (let i = 0; i < t.length; i++) t[i]!.flushOutbox();
    t.length = 0;
  }

  private reply(s: Session, idJson: string, resultJson: string, usIn: number): void {
    this.out(s, `{"id":${idJson},"result":${resultJson},"usIn":${usIn},"usOut":${this.clock.nowMicros()}}`);
  }

  private error(
    s: Session,
    idJson: string,
    code: ErrorCode,
    message: string,
    usIn: number,
    data?: Record<string, unknown>,
  ): void {
    this.metrics.gatewayErrors.inc(code);
    const body = data === undefined ? { code, message } : { code, message, data };
    this.out(
      s,
      `{"id":${idJson},"error":${JSON.stringify(body)},"usIn":${usIn},"usOut":${this.clock.nowMicros()}}`,
    );
  }

  /** Runs `run` once `seq` is released (at once if it is). */
  private defer(session: Session, idJson: string, usIn: number, seq: number, run: () => void): void {
    if (seq <= this.sequencer.releasedSeq) run();
    else if (this.failed)
      this.error(session, idJson, 'UNAVAILABLE', 'the server stopped taking commands', usIn);
    else this.deferred.push({ seq, run, session, idJson, usIn });
  }

  // ---- released batches --------------------------------------------------------------------------------

  private release(batch: Batch): void {
    const now = this.clock.nowMicros();
    const events = batch.events;
    const commands = batch.commands;
    this.metrics.batches.inc();
    this.metrics.batchCommands.inc('', commands.length);
    // A batch may be released inside a uWS callback (a batcher sealing a full batch during push), where only
    // the calling socket is corked: everything goes through the outboxes, one corked write per socket.
    const direct = this.direct;
    this.direct = false;
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
          this.dropPendingUpTo(cmd.seq);
        }
        if (c === 0) this.metrics.releaseLatency.observeUs(now - cmd.ts);
      }
      if (this.deferred.length > 0) {
        const due = this.deferred;
        this.deferred = [];
        for (const d of due) {
          if (d.seq <= batch.toSeq) d.run();
          else this.deferred.push(d);
        }
      }
    } catch (e) {
      this.log.error(
        { err: e, fromSeq: batch.fromSeq, toSeq: batch.toSeq },
        'routing a released batch failed',
      );
    }
    this.flush();
    this.direct = direct;
  }

  /** Everything one command caused: account views, private streams, public feeds, then the reply. */
  private route(seq: number, ts: number, events: EngineEvent[], start: number, end: number): void {
    // Reused across commands: routing runs once per order, and this list is nearly always one or two long.
    const touchedViews = this.touchedViews;
    touchedViews.length = 0;
    let bookSymbol: string | null = null;
    let bids: [string, string][] | null = null;
    let asks: [string, string][] | null = null;
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
            this.update(v, touchedViews, seq, ts)?.orders.push(e);
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
            this.update(v, touchedViews, seq, ts)?.positions.push(e);
          }
          break;
        }
        case 'account': {
          const v = views.get(e.accountId);
          if (v !== undefined && seq > v.seedSeq) {
            v.account = e;
            const u = this.update(v, touchedViews, seq, ts);
            if (u !== null) u.account = e;
          }
          break;
        }
        case 'ledger': {
          const v = views.get(e.accountId);
          if (v !== undefined && seq > v.seedSeq) this.update(v, touchedViews, seq, ts)?.ledger.push(e);
          break;
        }
        case 'book': {
          const m = this.mirrors.get(e.symbol);
          if (m === undefined) break;
          m.apply(e.side, e.price, e.quantity);
          if (bookSymbol !== null && bookSymbol !== e.symbol) {
            this.publishBook(bookSymbol, seq, ts, bids, asks);
            bids = null;
            asks = null;
          }
          bookSymbol = e.symbol;
          if (e.side === 'BUY') {
            if (bids === null) bids = [];
            bids.push([e.price, e.quantity]);
          } else {
            if (asks === null) asks = [];
            asks.push([e.price, e.quantity]);
          }
          break;
        }
        case 'instrument_created':
          if (!this.mirrors.has(e.symbol)) this.mirrors.set(e.symbol, new BookMirror(e.symbol));
          break;
        case 'mark_price': {
          const m = this.mirrors.get(e.symbol);
          if (m !== undefined) m.markPrice = e.price;
          break;
        }
        case 'rejected':
          this.metrics.rejects.inc(e.reason);
          break;
      }
    }
    if (hasTrades) this.routeTrades(seq, ts, events, start, end, touchedViews);
    if (bookSymbol !== null) this.publishBook(bookSymbol, seq, ts, bids, asks);
    for (let k = 0; k < touchedViews.length; k++) {
      const v = touchedViews[k]!;
      const u = v.commit();
      if (v.subscribers.size > 0) {
        const msg = JSON.stringify(u);
        for (const s of v.subscribers) this.out(s, msg);
      }
    }
    let p = this.pending[this.pendingHead];
    if (p !== undefined && p.seq < seq) {
      // A reply whose command went by unmatched (a bug): answer it rather than block every later reply.
      this.dropPendingUpTo(seq - 1);
      p = this.pending[this.pendingHead];
    }
    if (p !== undefined && p.seq === seq) {
      this.pending[this.pendingHead++] = undefined as unknown as Pending;
      if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
        this.pending = this.pending.slice(this.pendingHead);
        this.pendingHead = 0;
      }
      this.answer(p, events, start, end);
    }
  }

  /**
   * The private update being built for this command, or null while nobody has ever subscribed to the
   * account's stream: until then there is nothing to number or buffer (the first subscriber gets a snapshot).
   */
  private update(v: AccountView, touched: AccountView[], seq: number, ts: number): PrivateUpdate | null {
    if (v.pending !== null) return v.pending;
    if (!v.streaming) return null;
    touched.push(v);
    return v.begin(seq, ts);
  }

  private routeTrades(
    seq: number,
    ts: number,
    events: EngineEvent[],
    start: number,
    end: number,
    touchedViews: AccountView[],
  ): void {
    let symbol: string | null = null;
    let trades: PublicTrade[] = [];
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      if (e.type !== 'trade') continue;
      if (symbol !== null && symbol !== e.symbol) {
        this.publishTrades(symbol, seq, ts, trades);
        trades = [];
      }
      symbol = e.symbol;
      trades.push({ tradeId: e.tradeId, price: e.price, quantity: e.quantity, takerSide: e.takerSide });
      const m = this.mirrors.get(e.symbol);
      if (m !== undefined) m.lastPrice = e.price;
      const mv = this.views.get(e.makerAccountId);
      if (mv !== undefined && seq > mv.seedSeq) {
        const f = fillOf(e, true, mv.orderById(e.makerOrderId)?.clientOrderId ?? null);
        mv.fills.push(f);
        this.update(mv, touchedViews, seq, ts)?.fills.push(f);
      }
      const tv = this.views.get(e.takerAccountId);
      if (tv !== undefined && seq > tv.seedSeq) {
        const f = fillOf(e, false, tv.orderById(e.takerOrderId)?.clientOrderId ?? null);
        tv.fills.push(f);
        this.update(tv, touchedViews, seq, ts)?.fills.push(f);
      }
    }
    if (symbol !== null) this.publishTrades(symbol, seq, ts, trades);
  }

  private publishBook(
    symbol: string,
    seq: number,
    ts: number,
    bids: [string, string][] | null,
    asks: [string, string][] | null,
  ): void {
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
    });
    for (const s of set) this.out(s, msg);
  }

  private publishTrades(symbol: string, seq: number, ts: number, trades: PublicTrade[]): void {
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
    for (const s of set) this.out(s, msg);
  }

  /** The reply to a command, built from its own events. */
  private answer(p: Pending, events: EngineEvent[], start: number, end: number): void {
    const s = p.session;
    const seq = events[start]?.seq ?? 0;
    const ts = events[start]?.ts ?? 0;
    if (p.kind === Kind.Place) {
      const v = this.views.get(p.accountId);
      if (v !== undefined) v.inflightPlaces--;
    }
    let order: OrderEvent | undefined;
    const cancelled: OrderState[] = [];
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      if (e.type === 'rejected') {
        if (s.closed) return;
        const code = e.reason;
        return this.error(s, p.idJson, code, `refused by the engine: ${code}`, p.usIn, { seq, ts });
      }
      if (e.type !== 'order' || e.accountId !== p.accountId) continue;
      if (p.kind === Kind.CancelAll) {
        if (e.status === 'CANCELLED') cancelled.push(e);
        continue;
      }
      // place: the new order is the first order the command touched (engine event order);
      // amend/cancel: the order named by the request.
      if (
        p.kind === Kind.Place ||
        (p.orderId !== 0 ? e.orderId === p.orderId : e.clientOrderId === p.clientOrderId)
      ) {
        order = e;
        break;
      }
    }
    if (p.kind === Kind.CancelAll) {
      if (!s.closed) this.reply(s, p.idJson, JSON.stringify({ cancelled, seq, ts }), p.usIn);
      this.metrics.ackLatency.observeUs(this.clock.nowMicros() - p.usIn);
      return;
    }
    if (order === undefined) {
      if (!s.closed)
        this.error(s, p.idJson, 'INTERNAL_ERROR', 'the engine reported nothing for this command', p.usIn, {
          seq,
          ts,
        });
      return;
    }
    if (p.kind === Kind.Place && isLive(order) && s.cancelOnDisconnect === 'connection') {
      if (s.closed) {
        // The connection went away while this order was in flight: cancel-on-disconnect covers it too.
        if (this.sequencer.accepting)
          this.submit({
            type: 'cancel_order',
            accountId: order.accountId,
            orderId: order.orderId,
            source: 'DISCONNECT',
          });
        return;
      }
      s.placedOrders.add(order.orderId);
      // Orders that ended since (fills, cancels) are dropped now and then, so the set tracks live orders.
      if (s.placedOrders.size > 4 * this.cfg.maxOpenOrders) {
        for (const id of s.placedOrders) {
          const o = this.engine.order(id);
          if (o === undefined || !isLive(o)) s.placedOrders.delete(id);
        }
      }
    }
    if (s.closed) return;
    if (order.status === 'REJECTED') {
      const code = order.rejectionReason ?? 'INVALID_COMMAND';
      this.error(s, p.idJson, code, `refused by the engine: ${code}`, p.usIn, { order, seq, ts });
      return;
    }
    const fills: Fill[] = [];
    for (let k = start; k < end; k++) {
      const e = events[k]!;
      if (e.type !== 'trade') continue;
      if (e.takerOrderId === order.orderId) fills.push(fillOf(e, false, order.clientOrderId));
      else if (e.makerOrderId === order.orderId) fills.push(fillOf(e, true, order.clientOrderId));
    }
    this.out(
      s,
      `{"id":${p.idJson},"result":{"order":${orderJson(order)},"fills":${fillsJson(fills)},"seq":${seq},"ts":${ts}},"usIn":${p.usIn},"usOut":${this.clock.nowMicros()}}`,
    );
    this.metrics.ackLatency.observeUs(this.clock.nowMicros() - p.usIn);
  }

  /** Answers INTERNAL_ERROR to every waiting reply with seq <= `seq`. */
  private dropPendingUpTo(seq: number): void {
    while (this.pendingHead < this.pending.length && this.pending[this.pendingHead]!.seq <= seq) {
      const p = this.pending[this.pendingHead]!;
      this.pending[this.pendingHead++] = undefined as unknown as Pending;
      if (!p.session.closed) {
        this.error(p.session, p.idJson, 'INTERNAL_ERROR', 'internal error; query the order', p.usIn, {
          seq: p.seq,
        });
      }
    }
  }

  /** Called when the batcher gave up: answer everything still waiting with UNAVAILABLE. */
  failPending(): void {
    // What is not released now never will be: later queries that would wait for it are refused at once.
    this.failed = true;
    for (let k = this.pendingHead; k < this.pending.length; k++) {
      const p = this.pending[k]!;
      if (!p.session.closed)
        this.error(p.session, p.idJson, 'UNAVAILABLE', 'the command could not be made durable', p.usIn);
    }
    this.pending = [];
    this.pendingHead = 0;
    for (const d of this.deferred) {
      if (!d.session.closed)
        this.error(d.session, d.idJson, 'UNAVAILABLE', 'the server stopped taking commands', d.usIn);
    }
    this.deferred = [];
    this.flush();
  }
}
