/**
 * The gateway's protocol logic, independent of the socket library: requests in, engine commands to the
 * sequencer, replies and stream messages out of released batches only (output commit). This class wires
 * the parts together and is what the socket layer (ws-server.ts) and the server call.
 *
 * Three kinds of answers:
 * - refusals that need no engine state (bad input, rate limits, auth): at once (requests.ts);
 * - commands (place, amend, cancel, cancel_all): from the released batch that holds the command, matched by
 *   seq (commands.ts submits, acks.ts answers);
 * - queries: from the gateway's released state (account views, book mirrors), deferred until the engine
 *   seq current at the request is released, so a client reads its own writes and never anything unreleased
 *   (queries.ts, deferred.ts).
 *
 * Released batches are routed in router.ts to private streams (private-streams.ts) and public market data
 * (market-data.ts); everything sent goes through responses.ts.
 */
import { randomBytes } from 'node:crypto';
import type { EngineApi } from '../../engine/api.js';
import type { Config } from '../config.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { Clock, Sequencer } from '../sequencer.js';
import { Access } from './access.js';
import { AccountViews } from './account-view.js';
import { Acks } from './acks.js';
import { Admission } from './admission.js';
import { CancelAllAfter } from './cancel-all-after.js';
import { CancelOnDisconnect } from './cancel-on-disconnect.js';
import { Commands } from './commands.js';
import { Deferrals } from './deferred.js';
import type { KeyStore } from './keys.js';
import { MarketData } from './market-data.js';
import type { OrderArchive } from './order-archive.js';
import { Presence } from './presence.js';
import { PrivateStreams } from './private-streams.js';
import { Queries } from './queries.js';
import { Requests } from './requests.js';
import { Responses } from './responses.js';
import { Router } from './router.js';
import { CLOSE_KEY_REVOKED, type Session } from './session.js';
import { Subscriptions } from './subscriptions.js';

type GatewayConfig = Pick<
  Config,
  | 'maxMessageBytes'
  | 'connRateBurst'
  | 'connRatePerSec'
  | 'accountRateBurst'
  | 'accountRatePerSec'
  | 'maxOpenOrders'
  | 'maxBacklog'
  | 'maxPersistLag'
  | 'authWindowMs'
  | 'privateBufferSize'
  | 'finalOrdersRemembered'
  | 'recentFillsRemembered'
  | 'accountViewIdleMs'
  | 'tickerIntervalMs'
>;

export interface GatewayDeps {
  engine: EngineApi;
  sequencer: Sequencer;
  keys: KeyStore;
  config: GatewayConfig;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  /** Where order_status looks for orders the account views no longer remember (none: UNKNOWN_ORDER). */
  orderArchive?: OrderArchive | null;
  /** ms an archive lookup may take before order_status answers UNAVAILABLE (default 3000). */
  orderArchiveTimeoutMs?: number;
}

export class Gateway {
  /** Private streams restart with a new epoch when the server does: a resume across restarts gets a snapshot. */
  readonly epoch = randomBytes(6).toString('hex');
  readonly sessions = new Set<Session>();
  private readonly cfg: GatewayConfig;
  private readonly metrics: Metrics;
  private readonly responses: Responses;
  private readonly deferrals: Deferrals;
  private readonly market: MarketData;
  private readonly subscriptions: Subscriptions;
  private readonly cancelOnDisconnect: CancelOnDisconnect;
  private readonly cancelAllAfter: CancelAllAfter;
  private readonly acks: Acks;
  private readonly commands: Commands;
  private readonly requests: Requests;
  private readonly router: Router;
  private readonly views: AccountViews;
  private readonly admission: Admission;
  private readonly access: Access;
  private readonly presence = new Presence();
  private readonly sequencer: Sequencer;
  /** Views are dropped only where the database can answer for them (keepReason, Presence). */
  private readonly dropsViews: boolean;
  private tickerTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(deps: GatewayDeps) {
    const { engine, sequencer, keys, config: cfg, log, metrics, clock } = deps;
    this.cfg = cfg;
    this.metrics = metrics;
    const responses = new Responses(metrics, clock);
    const views = new AccountViews(this.epoch, engine, {
      bufferSize: cfg.privateBufferSize,
      finalOrders: cfg.finalOrdersRemembered,
      fills: cfg.recentFillsRemembered,
    });
    const deferrals = new Deferrals(sequencer, responses);
    const access = new Access(
      engine,
      keys,
      views,
      responses,
      log,
      cfg.authWindowMs,
      deps.orderArchive ?? null,
      this.presence,
    );
    const admission = new Admission(sequencer, cfg);
    const market = new MarketData(engine, sequencer, responses);
    const privateStreams = new PrivateStreams(views, deferrals, sequencer, responses);
    const cancelOnDisconnect = new CancelOnDisconnect(
      engine,
      sequencer,
      log,
      cfg.maxOpenOrders,
      (body) => this.commands.submit(body),
      (s) => access.accountsOf(s),
    );
    const cancelAllAfter = new CancelAllAfter((body) => this.commands.submit(body), log);
    metrics.gauge('exchange_cancel_all_after_armed', 'Accounts whose dead-man switch is armed', () => {
      return cancelAllAfter.size;
    });
    metrics.counterOf(
      'exchange_cancel_all_after_fired_total',
      'Dead-man switches that ran out and cancelled their account (since the start)',
      () => cancelAllAfter.firedTotal,
    );
    const acks = new Acks(views, responses, cancelOnDisconnect, metrics, clock);
    const commands = new Commands(sequencer, views, acks, admission, metrics, cfg.maxOpenOrders);
    const subscriptions = new Subscriptions(access, market, privateStreams, responses);
    const queries = new Queries(
      engine,
      sequencer,
      views,
      deferrals,
      responses,
      log,
      deps.orderArchive ? { archive: deps.orderArchive, timeoutMs: deps.orderArchiveTimeoutMs } : null,
    );
    this.views = views;
    this.admission = admission;
    this.access = access;
    this.sequencer = sequencer;
    this.dropsViews = cfg.accountViewIdleMs > 0 && deps.orderArchive != null;
    metrics.gauge('exchange_account_views', 'Accounts the gateway keeps in memory', () => views.size);
    metrics.counterOf(
      'exchange_account_views_dropped_total',
      'Account views dropped after their user was away (since the start)',
      () => views.droppedTotal,
    );
    this.responses = responses;
    this.deferrals = deferrals;
    this.market = market;
    this.subscriptions = subscriptions;
    this.cancelOnDisconnect = cancelOnDisconnect;
    this.cancelAllAfter = cancelAllAfter;
    this.acks = acks;
    this.commands = commands;
    this.requests = new Requests(
      { access, admission, cancelOnDisconnect, cancelAllAfter, commands, queries, subscriptions },
      responses,
      log,
    );
    this.router = new Router(views, market, privateStreams, acks, deferrals, responses, log, metrics, clock);
    sequencer.batcher.onRelease((b) => this.router.release(b));
  }

  /** Whether new commands are taken (false while recovering and after shutdown began). */
  get open(): boolean {
    return this.commands.open;
  }

  set open(value: boolean) {
    this.commands.open = value;
  }

  /** After recovery: mirror every book as it stands (nothing is unreleased yet) and start taking orders. */
  start(): void {
    this.market.seed();
    this.tickerTimer = setInterval(() => this.market.tick(), this.cfg.tickerIntervalMs);
    this.tickerTimer.unref();
    const idleMs = this.cfg.accountViewIdleMs;
    const sweepMs = this.dropsViews ? Math.max(100, Math.min(30_000, idleMs >> 1)) : 30_000;
    this.sweepTimer = setInterval(() => this.sweepViews(), sweepMs);
    this.sweepTimer.unref();
    this.open = true;
  }

  stop(): void {
    this.open = false;
    this.cancelAllAfter.clear();
    if (this.tickerTimer) clearInterval(this.tickerTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  /**
   * Per-account memory of accounts nobody trades with now: account rate buckets back at their burst, and
   * the views of users away for ACCOUNT_VIEW_IDLE_MS whose changes the database has. Returns the views
   * dropped.
   */
  sweepViews(nowMs = Date.now()): number {
    this.admission.forgetFullBuckets(performance.now());
    const persisted = this.sequencer.persistedSeq;
    if (!this.dropsViews || persisted < 0) return 0; // no archive, or the watermark is not known yet
    const idleMs = this.cfg.accountViewIdleMs;
    const n = this.views.sweep(persisted, (userId) => this.presence.away(userId, nowMs, idleMs));
    this.presence.forgetAway(nowMs, idleMs);
    return n;
  }

  get pendingCount(): number {
    return this.acks.count;
  }

  /** An operator revoked a key: the connections logged in with it are closed (4003), not left trading. */
  keyRevoked(apiKey: string): void {
    this.access.keyRevoked(apiKey);
    for (const s of this.sessions)
      if (s.key?.apiKey === apiKey) s.close(CLOSE_KEY_REVOKED, 'API key revoked');
  }

  // ---- connection lifecycle (uWS open / close) ----------------------------------------------------------

  opened(s: Session): void {
    this.sessions.add(s);
    this.metrics.connectionsOpened.inc();
  }

  closed(s: Session): void {
    if (s.authenticated) this.presence.disconnected(s.userId, Date.now());
    s.markClosed();
    this.sessions.delete(s);
    this.subscriptions.leaveAll(s);
    this.cancelOnDisconnect.disconnected(s);
  }

  // ---- messages (uWS message) ---------------------------------------------------------------------------

  /** One text message from a socket. Runs inside the uWS message callback. */
  message(s: Session, text: string, usIn: number): void {
    this.responses.enterCallback();
    try {
      this.requests.handle(s, text, usIn);
    } finally {
      this.responses.leaveCallback();
    }
  }

  tooLarge(s: Session, bytes: number, usIn: number): void {
    this.responses.enterCallback();
    try {
      this.responses.error(
        s,
        'null',
        'MESSAGE_TOO_LARGE',
        `message of ${bytes} bytes exceeds the limit`,
        usIn,
        {
          limit: this.cfg.maxMessageBytes,
        },
      );
    } finally {
      this.responses.leaveCallback();
    }
  }

  /** Called when the batcher gave up: answer everything still waiting with UNAVAILABLE. */
  failPending(): void {
    // What is not released now never will be: later queries that would wait for it are refused at once.
    this.acks.failAll();
    this.deferrals.failAll();
    this.responses.flush();
  }
}
