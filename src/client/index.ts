/**
 * The typed client for the exchange's WebSocket protocol (docs/protocol.md).
 *
 *   const c = new ExchangeClient({ url, apiKey, secret });
 *   await c.connect();                       // connects and authenticates
 *   const ack = await c.place({ symbol: 'BTC-USD', side: 'BUY', orderType: 'LIMIT', price: '100', quantity: '1' });
 *   c.subscribeBook('BTC-USD', (book) => ...);   // snapshot + deltas, gaps resynced automatically
 *   c.subscribePrivate((msg) => ...);             // gap-free, resumed from the last seq after a reconnect
 *
 * Errors are ExchangeError with the protocol's `code` (and `data`, e.g. retryAfterMs for RATE_LIMITED).
 * Uses the global WebSocket when there is one, else the `ws` package.
 */
import type { ErrorCode } from '../protocol/errors.js';
import { authParams } from '../protocol/sign.js';
import type {
  BookDeltaMessage,
  BookSnapshotMessage,
  Method,
  OrderRefParams,
  ParamsOf,
  PlaceParams,
  PrivateSnapshot,
  PrivateUpdate,
  ResultOf,
  TickerMessage,
  TradesMessage,
} from '../protocol/types.js';
import { LocalBook } from './book.js';

export { bookChecksum, CHECKSUM_LEVELS, crc32 } from '../protocol/checksum.js';
export type { ErrorCode } from '../protocol/errors.js';
export { authParams, sign } from '../protocol/sign.js';
export type * from '../protocol/types.js';
export { LocalBook } from './book.js';

/** Client-side codes: the request never got an answer. */
export type ClientErrorCode = 'DISCONNECTED' | 'TIMEOUT' | 'NOT_CONNECTED';
const CLIENT_CODES: ReadonlySet<string> = new Set<ClientErrorCode>([
  'DISCONNECTED',
  'TIMEOUT',
  'NOT_CONNECTED',
]);

export class ExchangeError extends Error {
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

interface MinimalSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
type SocketCtor = new (url: string) => MinimalSocket;

export interface ClientOptions {
  url: string;
  apiKey?: string;
  secret?: string;
  /** Reconnect after an unexpected close (default true), with exponential backoff and jitter. */
  reconnect?: boolean;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Per-request timeout (default 10 s): the promise rejects with TIMEOUT (the order may still exist: query it). */
  requestTimeoutMs?: number;
  /** A WebSocket class to use instead of the global one or `ws`. */
  WebSocket?: SocketCtor;
  /** Test hook: return true to drop an incoming message as if the network had lost it. */
  dropIncoming?: (msg: Record<string, unknown>) => boolean;
}

type PrivateHandler = (msg: PrivateUpdate | PrivateSnapshot) => void;
type BookHandler = (book: LocalBook, msg: BookSnapshotMessage | BookDeltaMessage) => void;

interface PrivateSub {
  accountId: number | undefined;
  handlers: PrivateHandler[];
  epoch: string | undefined;
  seq: number;
  /** Waiting for the answer to a (re)subscribe: stream messages are ignored until then. */
  syncing: boolean;
}

interface BookSub {
  book: LocalBook;
  /** The depth to subscribe with; the book takes it when the server confirms (its snapshot follows). */
  depth: number | undefined;
  handlers: BookHandler[];
  syncing: boolean;
}

interface PendingRequest {
  /** Runs synchronously on the reply, before any later message is handled (promises resolve later). */
  onReply?: (result: unknown) => void;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  /** The encoded request; null once sent. A held request waits for the connection's handshake to finish. */
  held: string | null;
}

type Listener = (...args: unknown[]) => void;

async function socketClass(given?: SocketCtor): Promise<SocketCtor> {
  if (given) return given;
  const g = (globalThis as { WebSocket?: SocketCtor }).WebSocket;
  if (g) return g;
  const mod = await import('ws');
  return mod.WebSocket as unknown as SocketCtor;
}

export class ExchangeClient {
  /**
   * The one current socket (connecting, in its handshake, or ready), or null. Every other socket is stale:
   * its events are ignored, and it is closed when it is dropped.
   */
  private ws: MinimalSocket | null = null;
  /** The current socket is open and its handshake (auth, subscriptions restored) is done. */
  private ready = false;
  /**
   * Bumped by every connection attempt and by close(): an attempt that finds it changed was superseded and
   * neither touches the client nor schedules a reconnect.
   */
  private generation = 0;
  /** The credentials of the last successful auth, used again after a reconnect. */
  private credentials: { apiKey: string; secret: string } | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly privateSubs = new Map<string, PrivateSub>();
  private readonly bookSubs = new Map<string, BookSub>();
  private readonly plainSubs = new Map<string, Array<(msg: never) => void>>();
  /**
   * The cancel-on-disconnect setting the server last confirmed: a setting belongs to a connection, so every
   * reconnect turns it on again, before held orders go out (a bot relying on it as its safety net keeps it).
   */
  private cancelOnDisconnectParams: { enabled: boolean; scope: 'connection' | 'account' } | null = null;
  /**
   * Armed dead-man's switches by account ("default" for the key's default account). The server forgets them
   * when it restarts, so a reconnect arms each again with its timeout; keeping it armed after that is still
   * the bot's job (a client that refreshed it by itself would keep a hung bot's orders alive).
   */
  private readonly switches = new Map<number, ParamsOf<'cancel_all_after'>>();
  private readonly listeners = new Map<string, Listener[]>();
  private closedByUser = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly opts: Required<
    Pick<ClientOptions, 'reconnect' | 'backoffInitialMs' | 'backoffMaxMs' | 'requestTimeoutMs'>
  > &
    ClientOptions;
  /** Set after a successful auth. */
  userId = 0;
  accountIds: number[] = [];

  constructor(options: ClientOptions) {
    this.opts = {
      reconnect: true,
      backoffInitialMs: 100,
      backoffMaxMs: 10_000,
      requestTimeoutMs: 10_000,
      ...options,
    };
  }

  /** Events: open, close ({code, reason}), reconnected, gap ({channel, expected, got}), error. */
  on(event: 'open' | 'close' | 'reconnected' | 'gap' | 'error', fn: Listener): this {
    const l = this.listeners.get(event) ?? [];
    l.push(fn);
    this.listeners.set(event, l);
    return this;
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }

  /** True once the socket is open, authenticated (with credentials) and its subscriptions are restored. */
  get connected(): boolean {
    return this.ws !== null && this.ready && this.ws.readyState === 1;
  }

  /**
   * Opens the connection and, with credentials (the options', or those of the last successful
   * `authenticate`), authenticates; subscriptions already registered (after a `close()`) are restored.
   * Replaces any current connection. On failure the socket is closed and the promise rejects.
   */
  async connect(): Promise<void> {
    this.closedByUser = false;
    this.cancelReconnect();
    await this.open(++this.generation);
  }

  async authenticate(apiKey = this.opts.apiKey!, secret = this.opts.secret!): Promise<ResultOf<'auth'>> {
    const r = await this.request('auth', authParams(apiKey, secret));
    this.authenticated(r, apiKey, secret);
    return r;
  }

  private authenticated(r: ResultOf<'auth'>, apiKey: string, secret: string): void {
    this.userId = r.userId;
    this.accountIds = r.accountIds;
    this.credentials = { apiKey, secret };
  }

  /** Closes for good (no reconnect), including a reconnect under way. */
  close(): void {
    this.closedByUser = true;
    this.generation++;
    this.cancelReconnect();
    if (this.ws !== null) this.drop(this.ws, 1000, 'bye');
  }

  /**
   * Sends any method; resolves with its typed result or rejects with ExchangeError. While a (re)connection
   * is in its handshake (auth, subscriptions being restored) the request is held and sent once it is done;
   * with no connection at all it rejects NOT_CONNECTED.
   */
  request<M extends Method>(
    method: M,
    params?: ParamsOf<M>,
    onReply?: (result: ResultOf<M>) => void,
  ): Promise<ResultOf<M>> {
    const ws = this.ws;
    if (ws === null || (this.ready && ws.readyState !== 1)) {
      return Promise.reject(new ExchangeError('NOT_CONNECTED', 'not connected'));
    }
    return this.send(this.ready ? ws : null, method, params, onReply);
  }

  /** Sends on `ws` now, or (ws null) holds the request until the current socket is ready. */
  private send<M extends Method>(
    ws: MinimalSocket | null,
    method: M,
    params?: ParamsOf<M>,
    onReply?: (result: ResultOf<M>) => void,
  ): Promise<ResultOf<M>> {
    if (ws !== null && (ws !== this.ws || ws.readyState !== 1)) {
      return Promise.reject(new ExchangeError('DISCONNECTED', 'connection closed before the request'));
    }
    const id = this.nextId++;
    const text =
      params === undefined ? `{"id":${id},"method":"${method}"}` : JSON.stringify({ id, method, params });
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ExchangeError('TIMEOUT', `${method} timed out; its outcome is unknown: query order_status`),
        );
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        onReply: onReply as ((r: unknown) => void) | undefined,
        held: ws === null ? text : null,
      });
      ws?.send(text);
    });
  }

  place(p: PlaceParams) {
    return this.request('place', p);
  }
  /**
   * Up to 20 orders in one request, placed back to back. Resolves with one answer per order, in order:
   * `{result}` (what `place` resolves with) or `{error}` (what it would throw); it rejects only when the
   * request as a whole is refused (bad params, rate limit, connection lost).
   */
  placeBatch(orders: PlaceParams[], accountId?: number) {
    return this.request('place_batch', accountId === undefined ? { orders } : { orders, accountId });
  }
  amend(p: ParamsOf<'amend'>) {
    return this.request('amend', p);
  }
  cancel(p: OrderRefParams) {
    return this.request('cancel', p);
  }
  cancelAll(p: ParamsOf<'cancel_all'> = {}) {
    return this.request('cancel_all', p);
  }
  openOrders(p: ParamsOf<'open_orders'> = {}) {
    return this.request('open_orders', p);
  }
  orderStatus(p: OrderRefParams) {
    return this.request('order_status', p);
  }
  positions(p: ParamsOf<'positions'> = {}) {
    return this.request('positions', p);
  }
  account(p: ParamsOf<'account'> = {}) {
    return this.request('account', p);
  }
  recentFills(p: ParamsOf<'recent_fills'> = {}) {
    return this.request('recent_fills', p);
  }
  /** The rate budget left (connection and account) and what each request costs. */
  rateLimits(p: ParamsOf<'rate_limits'> = {}) {
    return this.request('rate_limits', p);
  }
  /** A position's stop-loss / take-profit (a price sets one, null clears it); answers the position. */
  setPositionTpSl(p: ParamsOf<'set_position_tpsl'>) {
    return this.request('set_position_tpsl', p);
  }
  time() {
    return this.request('time');
  }
  ping() {
    return this.request('ping');
  }
  /** Turns cancel-on-disconnect on or off for this client: kept across its reconnects. */
  async cancelOnDisconnect(enabled: boolean, scope: 'connection' | 'account' = 'connection') {
    const result = await this.request('cancel_on_disconnect', { enabled, scope });
    this.cancelOnDisconnectParams = enabled ? { enabled, scope } : null;
    return result;
  }

  /**
   * The account's dead-man's switch: unless this is called again within `timeoutMs`, the server cancels all
   * of the account's orders. 0 disarms. Call it again well before it runs out (every third of the timeout,
   * say); it keeps running while the client is disconnected, and the client arms it again on reconnect.
   */
  async cancelAllAfter(timeoutMs: number, accountId?: number) {
    const p = accountId === undefined ? { timeoutMs } : { timeoutMs, accountId };
    // Disarming is forgotten before it is sent: were its answer lost, a reconnect must not arm it again.
    const known = accountId ?? this.accountIds[0];
    if (timeoutMs === 0 && known !== undefined) this.switches.delete(known);
    const result = await this.request('cancel_all_after', p);
    // Keyed by the account the server resolved, so the default account and its id are one switch.
    if (timeoutMs === 0) this.switches.delete(result.accountId);
    else this.switches.set(result.accountId, { timeoutMs, accountId: result.accountId });
    return result;
  }

  /**
   * The account's private stream. Gaps and reconnects resume from the last seq (or a fresh snapshot).
   * Subscribing again adds a handler: every handler then gets a fresh snapshot, so the new one starts from
   * one too.
   */
  async subscribePrivate(handler: PrivateHandler, accountId?: number): Promise<void> {
    // The default account is the key's first (docs/protocol.md): named or not, one account is one stream.
    const account = accountId ?? this.accountIds[0];
    const key = String(account ?? 'default');
    const existing = this.privateSubs.get(key);
    if (existing !== undefined) {
      return this.addHandler(existing.handlers, handler, () => this.syncPrivate(existing, undefined, true));
    }
    const sub: PrivateSub = {
      accountId: account,
      handlers: [handler],
      epoch: undefined,
      seq: 0,
      syncing: true,
    };
    await this.register(this.privateSubs, key, sub, () => this.syncPrivate(sub));
  }

  /**
   * Adds a handler to a stream already subscribed and asks for a fresh snapshot, which every handler sees;
   * the stream keeps flowing meanwhile. A refusal takes the handler out again; a lost connection keeps it,
   * as a new subscription is kept: the reconnect restores the stream for every handler.
   */
  private async addHandler<H>(
    handlers: H[],
    handler: H,
    sync: () => Promise<unknown>,
    undo: () => void = () => {},
  ): Promise<void> {
    handlers.push(handler);
    try {
      await sync();
    } catch (e) {
      if (e instanceof ExchangeError && !CLIENT_CODES.has(e.code)) {
        const i = handlers.indexOf(handler);
        if (i >= 0) handlers.splice(i, 1);
        undo();
      }
      throw e;
    }
  }

  /**
   * Registers a subscription (restored after every reconnect) and subscribes. One the server refuses is
   * forgotten again: restoring it would fail, and close, every reconnection.
   */
  private async register<V>(map: Map<string, V>, key: string, sub: V, run: () => Promise<unknown>) {
    map.set(key, sub);
    try {
      await run();
    } catch (e) {
      const refused = e instanceof ExchangeError && !CLIENT_CODES.has(e.code);
      if (refused && map.get(key) === sub) map.delete(key);
      throw e;
    }
  }

  /**
   * (Re)subscribes the private stream: from its last seq, or with `fresh` for a snapshot while the stream,
   * in sync, keeps being delivered until the reply (the snapshot follows the reply).
   */
  private async syncPrivate(sub: PrivateSub, ws?: MinimalSocket, fresh = false): Promise<void> {
    if (![...this.privateSubs.values()].includes(sub)) return; // unsubscribed meanwhile
    if (!fresh) sub.syncing = true;
    const params: ParamsOf<'subscribe'> = { channel: 'private' };
    if (sub.accountId !== undefined) params.accountId = sub.accountId;
    if (!fresh && sub.epoch !== undefined) {
      params.fromSeq = sub.seq;
      params.epoch = sub.epoch;
    }
    // The replay (or snapshot) follows the reply on the same socket, in order: stop ignoring stream
    // messages exactly at the reply.
    const done = () => {
      sub.syncing = false;
    };
    if (ws === undefined) await this.request('subscribe', params, done);
    else await this.send(ws, 'subscribe', params, done);
  }

  /**
   * The L2 book: snapshot, then deltas; a gap in seq/prevSeq, or a checksum that differs, triggers a fresh
   * snapshot. One LocalBook per symbol: subscribing again adds a handler and returns the same book, widened
   * to the larger depth asked (none: the whole book), after a fresh snapshot.
   */
  async subscribeBook(symbol: string, handler: BookHandler, depth?: number): Promise<LocalBook> {
    const existing = this.bookSubs.get(symbol);
    if (existing !== undefined) {
      const before = existing.depth;
      if (before !== undefined && (depth === undefined || depth > before)) existing.depth = depth;
      await this.addHandler(
        existing.handlers,
        handler,
        () => this.syncBook(existing, undefined, true),
        () => {
          existing.depth = before;
        },
      );
      return existing.book;
    }
    const sub: BookSub = {
      book: new LocalBook(symbol, depth),
      depth,
      handlers: [handler],
      syncing: true,
    };
    await this.register(this.bookSubs, symbol, sub, () => this.syncBook(sub));
    return sub.book;
  }

  /** (Re)subscribes a book; `inSync`: its deltas keep being applied until the reply (a snapshot follows). */
  private async syncBook(sub: BookSub, ws?: MinimalSocket, inSync = false): Promise<void> {
    if (this.bookSubs.get(sub.book.symbol) !== sub) return; // unsubscribed meanwhile
    if (!inSync) sub.syncing = true;
    const depth = sub.depth;
    const params: ParamsOf<'subscribe'> = { channel: `book.${sub.book.symbol}` };
    if (depth !== undefined) params.depth = depth;
    // The snapshot for this depth follows the reply: a snapshot still in flight is of the depth before.
    const done = () => {
      sub.book.depth = depth;
    };
    if (ws === undefined) await this.request('subscribe', params, done);
    else await this.send(ws, 'subscribe', params, done);
  }

  async subscribeTrades(symbol: string, handler: (msg: TradesMessage) => void): Promise<void> {
    const channel = `trades.${symbol}`;
    await this.subscribePlain(channel, handler as (msg: never) => void);
  }

  async subscribeTicker(symbol: string, handler: (msg: TickerMessage) => void): Promise<void> {
    const channel = `ticker.${symbol}`;
    await this.subscribePlain(channel, handler as (msg: never) => void);
  }

  /** trades and ticker: subscribing again adds a handler (and, for a ticker, the current one is sent again). */
  private async subscribePlain(channel: string, handler: (msg: never) => void): Promise<void> {
    const subscribe = () => this.request('subscribe', { channel });
    const existing = this.plainSubs.get(channel);
    if (existing !== undefined) return this.addHandler(existing, handler, subscribe);
    await this.register(this.plainSubs, channel, [handler], subscribe);
  }

  async unsubscribe(channel: string, accountId?: number): Promise<void> {
    if (channel === 'private') this.privateSubs.delete(String(accountId ?? 'default'));
    else if (channel.startsWith('book.')) this.bookSubs.delete(channel.slice(5));
    else this.plainSubs.delete(channel);
    await this.request('unsubscribe', accountId === undefined ? { channel } : { channel, accountId });
  }

  // ---- incoming --------------------------------------------------------------------------------------------

  private onMessage(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      this.emit('error', new Error('unparseable message from server'));
      return;
    }
    if (this.opts.dropIncoming?.(msg)) return;
    if ('id' in msg) {
      const id = msg.id as number;
      const p = this.pending.get(id);
      if (p === undefined) return;
      this.pending.delete(id);
      clearTimeout(p.timer);
      if ('error' in msg) {
        const e = msg.error as { code: ErrorCode; message: string; data?: Record<string, unknown> };
        p.reject(new ExchangeError(e.code, e.message, e.data));
      } else {
        p.onReply?.(msg.result);
        p.resolve(msg.result);
      }
      return;
    }
    const channel = msg.channel as string;
    if (channel === 'private') return this.onPrivate(msg as unknown as PrivateUpdate | PrivateSnapshot);
    if (channel.startsWith('book.'))
      return this.onBook(msg as unknown as BookSnapshotMessage | BookDeltaMessage);
    const handlers = this.plainSubs.get(channel);
    if (handlers !== undefined) for (const h of handlers) h(msg as never);
  }

  private privateSubFor(accountId: number): PrivateSub | undefined {
    return this.privateSubs.get(String(accountId)) ?? this.privateSubs.get('default');
  }

  private onPrivate(msg: PrivateUpdate | PrivateSnapshot): void {
    const sub = this.privateSubFor(msg.accountId);
    if (sub === undefined) return;
    if (sub.accountId === undefined) sub.accountId = msg.accountId;
    if (msg.type === 'snapshot') {
      sub.epoch = msg.epoch;
      sub.seq = msg.seq;
      for (const h of sub.handlers) h(msg);
      return;
    }
    if (sub.syncing) return;
    if (msg.epoch === sub.epoch && msg.seq <= sub.seq) return; // a replayed duplicate
    if (msg.epoch !== sub.epoch || msg.seq !== sub.seq + 1) {
      this.emit('gap', { channel: 'private', accountId: msg.accountId, expected: sub.seq + 1, got: msg.seq });
      this.resync(() => this.syncPrivate(sub));
      return;
    }
    sub.seq = msg.seq;
    for (const h of sub.handlers) h(msg);
  }

  private onBook(msg: BookSnapshotMessage | BookDeltaMessage): void {
    const sub = this.bookSubs.get(msg.symbol);
    if (sub === undefined) return;
    if (msg.type === 'snapshot') {
      sub.syncing = false;
      sub.book.reset(msg.bids, msg.asks, msg.seq, msg.engineSeq);
      // The book now holds exactly the snapshot's levels: another snapshot would not mend a mismatch.
      if (sub.book.verifiable() && msg.checksum !== undefined && sub.book.checksum() !== msg.checksum)
        this.emit('error', new Error(`${msg.channel}: the snapshot does not match its own checksum`));
      for (const h of sub.handlers) h(sub.book, msg);
      return;
    }
    if (sub.syncing) return;
    if (msg.prevSeq !== sub.book.seq) {
      this.emit('gap', { channel: msg.channel, expected: sub.book.seq + 1, got: msg.seq });
      this.resync(() => this.syncBook(sub));
      return;
    }
    sub.book.apply(msg.bids, msg.asks, msg.seq, msg.engineSeq);
    if (this.checksumFailed(sub, msg)) return;
    for (const h of sub.handlers) h(sub.book, msg);
    if (!sub.book.complete()) {
      // Subscribed with a depth, a side thinned below it: a level behind the snapshot may be among the best.
      this.resync(() => this.syncBook(sub));
    }
  }

  /**
   * The book no longer matches the delta's checksum: the handler is not shown it, `gap` is emitted (with
   * both checksums) and a fresh snapshot taken. A book that cannot know the checksummed levels (a depth
   * below CHECKSUM_LEVELS, or thinned and about to resync) is not checked.
   */
  private checksumFailed(sub: BookSub, msg: BookDeltaMessage): boolean {
    if (msg.checksum === undefined || !sub.book.verifiable()) return false;
    const local = sub.book.checksum();
    if (local === msg.checksum) return false;
    sub.syncing = true;
    this.emit('gap', {
      channel: msg.channel,
      seq: msg.seq,
      checksum: { expected: msg.checksum, got: local },
    });
    this.resync(() => this.syncBook(sub));
    return true;
  }

  /**
   * Resubscribes a stream whose messages are being ignored until it is in sync again (a gap, a checksum, a
   * thinned book, a refused resubscribe). A refusal is retried, when it says (`retryAfterMs`) or with
   * backoff up to 5 s, so a stream never stays silent; a lost connection is left to the reconnect, which
   * resyncs every stream. Each failure is emitted as `error`.
   */
  private resync(run: () => Promise<unknown>, attempt = 0): void {
    run().catch((e: unknown) => {
      this.emit('error', e);
      if (this.closedByUser || !(e instanceof ExchangeError)) return;
      if (e.code === 'DISCONNECTED' || e.code === 'NOT_CONNECTED') return;
      const hinted = Number(e.data?.retryAfterMs);
      const ms = hinted > 0 ? hinted : Math.min(5000, 100 * 2 ** attempt);
      setTimeout(() => this.resync(run, attempt + 1), ms).unref?.();
    });
  }

  // ---- connection lifecycle --------------------------------------------------------------------------------

  /**
   * One connection attempt: drops the current socket, opens a new one, authenticates and restores the
   * subscriptions on it (those requests bypass the hold), then releases the held requests. Any failure
   * closes this socket and rejects; the caller decides whether to back off and retry.
   */
  private async open(generation: number): Promise<void> {
    if (this.ws !== null) this.drop(this.ws, 1000, 'reconnecting');
    const Ctor = await socketClass(this.opts.WebSocket);
    if (generation !== this.generation) throw superseded();
    const ws = new Ctor(this.opts.url);
    this.ws = ws;
    this.ready = false;
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      ws.onopen = () => {
        opened = true;
        if (this.ws === ws) resolve();
        else {
          ws.close(1000, 'superseded');
          reject(superseded());
        }
      };
      ws.onerror = (ev) => {
        if (!opened) reject(new ExchangeError('NOT_CONNECTED', `cannot connect to ${this.opts.url}`));
        else if (this.ws === ws) this.emit('error', ev);
      };
      ws.onclose = (ev) => {
        if (!opened) {
          if (this.ws === ws) this.ws = null;
          reject(new ExchangeError('NOT_CONNECTED', `connection refused: ${ev.code} ${ev.reason}`));
          return;
        }
        if (this.ws === ws) this.onClose(ev.code, ev.reason);
      };
      ws.onmessage = (ev) => {
        if (this.ws === ws) this.onMessage(typeof ev.data === 'string' ? ev.data : String(ev.data));
      };
    });
    try {
      this.emit('open');
      const apiKey = this.credentials?.apiKey ?? this.opts.apiKey;
      const secret = this.credentials?.secret ?? this.opts.secret;
      if (apiKey !== undefined && secret !== undefined) {
        this.authenticated(await this.send(ws, 'auth', authParams(apiKey, secret)), apiKey, secret);
        const cod = this.cancelOnDisconnectParams;
        if (cod !== null) await this.send(ws, 'cancel_on_disconnect', cod);
        for (const p of [...this.switches.values()]) {
          // A refusal (the account's rate budget spent by another connection, say) must not fail the
          // whole reconnect: it is reported, and the bot's own next refresh arms the switch.
          await this.send(ws, 'cancel_all_after', p).catch((e: unknown) => {
            if (!(e instanceof ExchangeError) || CLIENT_CODES.has(e.code)) throw e;
            this.emit('error', e);
          });
        }
      }
      // A snapshot of the subscriptions: one added meanwhile sends its own (held) subscribe.
      const privates = [...this.privateSubs.values()];
      const books = [...this.bookSubs.values()];
      const plain = [...this.plainSubs.keys()];
      for (const sub of privates) await this.syncPrivate(sub, ws);
      for (const sub of books) await this.syncBook(sub, ws);
      for (const channel of plain) await this.send(ws, 'subscribe', { channel });
      if (this.ws !== ws) throw superseded();
    } catch (e) {
      if (this.ws === ws) this.drop(ws, 4000, 'handshake failed');
      throw e;
    }
    this.ready = true;
    for (const p of this.pending.values()) {
      if (p.held === null) continue;
      ws.send(p.held);
      p.held = null;
    }
  }

  /**
   * Makes `ws` stale and closes it: every request sent on it rejects DISCONNECTED, every held one
   * NOT_CONNECTED (it never went out). Its own close event, whenever it comes, is ignored.
   */
  private drop(ws: MinimalSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    const wasOpen = ws.readyState === 1;
    this.ws = null;
    this.ready = false;
    this.rejectPending();
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
    if (wasOpen) this.emit('close', { code, reason });
  }

  private rejectPending(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(
        p.held === null
          ? new ExchangeError('DISCONNECTED', 'connection closed before the answer; query order_status')
          : new ExchangeError('NOT_CONNECTED', 'connection lost before the request was sent'),
      );
      this.pending.delete(id);
    }
  }

  /** The current socket closed (never a stale one: their events are ignored). */
  private onClose(code: number, reason: string): void {
    const wasReady = this.ready;
    this.ws = null;
    this.ready = false;
    this.rejectPending();
    this.emit('close', { code, reason });
    // Closed during its handshake: the attempt that opened it fails and decides what comes next.
    if (!wasReady || this.closedByUser || !this.opts.reconnect) return;
    this.scheduleReconnect();
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private scheduleReconnect(): void {
    if (this.closedByUser || !this.opts.reconnect || this.reconnectTimer !== null) return;
    const base = Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      const generation = ++this.generation;
      this.open(generation).then(
        () => {
          this.attempt = 0;
          this.emit('reconnected');
        },
        (e: unknown) => {
          if (generation !== this.generation || this.closedByUser) return; // superseded or closed
          this.emit('error', e);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }
}

function superseded(): ExchangeError {
  return new ExchangeError('NOT_CONNECTED', 'connection attempt superseded (closed or reconnected)');
}
