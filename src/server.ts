/**
 * Wires the product: engine, sequencer, output batcher, gateway (WebSocket), HTTP health/metrics, and the
 * admin interface. Start order: recover the engine, then open for trading; stop order: stop accepting,
 * flush the last batch (its replies go out), close sockets, close the queue.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { EngineApi } from '../engine/api.js';
import { Engine } from '../engine/index.js';
import { AdminServer } from './admin/http.js';
import { Operator } from './admin/operator.js';
import type { Config } from './config.js';
import { Gateway } from './gateway/gateway.js';
import { type KeyStore, MemoryKeyStore } from './gateway/keys.js';
import type { OrderArchive } from './gateway/order-archive.js';
import { uwsImplementation, WsServer } from './gateway/ws-server.js';
import { Metrics } from './http/metrics.js';
import { type Health, registerHttpRoutes } from './http/routes.js';
import { createLogger, type Logger } from './log.js';
import { createBullOutputBatcher } from './pipeline/batcher.js';
import { MemoryBatcher } from './pipeline/memory-batcher.js';
import type { OutputBatcher } from './pipeline/types.js';
import { type Clock, Sequencer, SystemClock } from './sequencer.js';

export interface ServerOptions {
  config: Config;
  engine?: EngineApi;
  /** Overrides config.batcher (tests hand in a MemoryBatcher they can inspect). */
  batcher?: OutputBatcher & { setReleasedSeq?(seq: number): void };
  keys?: KeyStore;
  log?: Logger;
  clock?: Clock;
  /**
   * Brings the engine to the persisted state before trading opens (replay of the journal; issue 6).
   * Resolves with the last persisted seq. Without it, the engine starts empty.
   */
  recover?: (engine: EngineApi, progress: (info: Record<string, unknown>) => void) => Promise<number>;
  /** Whether the queue answers, for /health. */
  probeQueue?: () => Promise<boolean>;
  /**
   * Persisted orders, for order_status on orders the gateway no longer remembers (main.ts: the `orders`
   * table, PgOrderArchive). Without it such orders answer UNKNOWN_ORDER.
   */
  orderArchive?: OrderArchive;
  /** ms an archive lookup may take before order_status answers UNAVAILABLE (default 3000). */
  orderArchiveTimeoutMs?: number;
}

export class ExchangeServer {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly clock: Clock;
  engine!: EngineApi;
  sequencer!: Sequencer;
  gateway!: Gateway;
  operator!: Operator;
  keys: KeyStore;
  private ws!: WsServer;
  private admin!: AdminServer;
  private batcher!: OutputBatcher & { setReleasedSeq?(seq: number): void };
  private closeBatcher: () => Promise<void> = async () => {};
  private state: Health['status'] = 'starting';
  private progress: Record<string, unknown> = {};
  private fatal: Error | null = null;
  private probeQueue: (() => Promise<boolean>) | undefined;
  port = 0;
  adminPort = 0;
  adminToken: string;

  constructor(private readonly options: ServerOptions) {
    this.config = options.config;
    this.log = options.log ?? createLogger(this.config.logLevel);
    this.clock = options.clock ?? new SystemClock();
    this.keys = options.keys ?? new MemoryKeyStore();
    this.adminToken = this.config.adminToken || randomBytes(24).toString('base64url');
  }

  async start(): Promise<void> {
    const cfg = this.config;
    const impl = uwsImplementation();
    this.log.info(
      { uws: impl },
      impl === 'native'
        ? 'uWebSockets.js native binary loaded'
        : 'uWebSockets.js native binary NOT loaded: running on the ws-based shim (slow; do not benchmark)',
    );
    this.engine = this.options.engine ?? new Engine({ risk: cfg.risk });
    if (this.options.batcher !== undefined) this.batcher = this.options.batcher;
    else if (cfg.batcher === 'memory') this.batcher = new MemoryBatcher({ mode: cfg.commitMode });
    else {
      const b = await createBullOutputBatcher({
        mode: cfg.commitMode,
        redisUrl: cfg.redisUrl,
        queueName: cfg.queueName,
        log: (level, message, context) => this.log[level](context ?? {}, message),
      });
      this.batcher = b.batcher;
      // /health asks Redis itself: the batcher only notices a dead queue at its next enqueue.
      const probe = new Redis(cfg.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      probe.on('error', () => {});
      this.probeQueue = async () => {
        const pong = await Promise.race([probe.ping(), new Promise((r) => setTimeout(r, 500, 'timeout'))]);
        return pong === 'PONG';
      };
      this.closeBatcher = async () => {
        probe.disconnect();
        await b.close();
      };
    }
    if (this.options.probeQueue !== undefined) this.probeQueue = this.options.probeQueue;
    if (cfg.commitMode === 'fast')
      this.log.warn('COMMIT_MODE=fast: acks leave before batches are durable (benchmarks only)');
    this.sequencer = new Sequencer(this.engine, this.batcher, this.clock);
    this.gateway = new Gateway({
      engine: this.engine,
      sequencer: this.sequencer,
      keys: this.keys,
      config: cfg,
      log: this.log,
      metrics: this.metrics,
      clock: this.clock,
      orderArchive: this.options.orderArchive ?? null,
      orderArchiveTimeoutMs: this.options.orderArchiveTimeoutMs,
    });
    this.operator = new Operator(this.engine, this.sequencer, this.keys, this.metrics);
    this.operator.onRevoke((apiKey) => this.gateway.keyRevoked(apiKey));
    this.batcher.onFatal((err) => {
      this.fatal = err;
      this.log.fatal({ err }, 'output batcher failed: no longer accepting commands');
      this.sequencer.close(`output batcher failed: ${err.message}`);
      this.gateway.failPending();
    });
    this.metrics.gauge('exchange_engine_seq', 'Last sequenced command', () => this.engine.lastSeq);
    this.metrics.gauge(
      'exchange_released_seq',
      'Last command released to clients',
      () => this.batcher.releasedSeq,
    );
    this.metrics.gauge(
      'exchange_queue_lag_commands',
      'Commands sequenced but not yet released',
      () => this.engine.lastSeq - this.batcher.releasedSeq,
    );
    this.metrics.gauge(
      'exchange_persisted_seq',
      'Watermark the persistence workers reached, as last read (-1: unknown)',
      () => this.sequencer.persistedSeq,
    );
    this.metrics.gauge(
      'exchange_persist_lag_commands',
      'Commands released but not yet written to PostgreSQL (0 while the watermark is unknown)',
      () => Math.max(0, this.sequencer.persistLag),
    );
    this.metrics.gauge(
      'exchange_pending_replies',
      'Requests waiting for their batch',
      () => this.gateway.pendingCount,
    );

    this.ws = new WsServer(this.gateway, cfg, this.log, this.metrics, this.clock);
    registerHttpRoutes(this.ws.app, () => this.health(), this.metrics);
    // Health answers during recovery, so the WebSocket/HTTP port opens first; trading opens after recovery.
    this.port = await this.ws.listen();
    this.admin = new AdminServer(this.operator, this.adminToken, this.log, () => this.status());
    this.adminPort = await this.admin.listen(cfg.adminHost, cfg.adminPort);
    if (!cfg.adminToken)
      this.log.warn({ adminToken: this.adminToken }, 'ADMIN_TOKEN not set: generated one for this run');

    this.state = 'recovering';
    if (this.options.recover !== undefined) {
      const started = Date.now();
      const seq = await this.options.recover(this.engine, (p) => {
        this.progress = p;
      });
      this.batcher.setReleasedSeq?.(seq);
      this.log.info({ seq, ms: Date.now() - started }, 'recovered');
    }
    this.gateway.start();
    this.operator.open = true;
    this.state = 'ready';
    this.log.info(
      { port: this.port, adminPort: this.adminPort, commitMode: this.batcher.mode, seq: this.engine.lastSeq },
      'ready for trading',
    );
  }

  private status(): Record<string, unknown> {
    return {
      status: this.state,
      seq: this.engine?.lastSeq ?? 0,
      releasedSeq: this.batcher?.releasedSeq ?? 0,
      connections: this.gateway?.sessions.size ?? 0,
      commitMode: this.batcher?.mode,
      ...(this.state === 'recovering' ? { progress: this.progress } : {}),
    };
  }

  async health(): Promise<Health> {
    const base = this.status();
    if (this.fatal !== null) return { ...base, status: 'queue_unreachable', error: this.fatal.message };
    if (this.state !== 'ready') return { ...base, status: this.state };
    if (this.probeQueue !== undefined && !(await this.probeQueue().catch(() => false))) {
      return { ...base, status: 'queue_unreachable' };
    }
    return { ...base, status: 'ready' };
  }

  /** Graceful: stop accepting, answer what is in flight from the last batch, close everything. */
  async stop(): Promise<void> {
    if (this.state === 'stopping') return;
    this.state = 'stopping';
    this.log.info('shutting down');
    if (this.operator) this.operator.open = false;
    this.ws.stopListening();
    this.gateway.stop();
    this.sequencer.close('shutting down');
    const timeout = new Promise<void>((resolve) =>
      setTimeout(resolve, this.config.shutdownTimeoutMs).unref(),
    );
    await Promise.race([this.batcher.flush(), timeout]);
    // Replies released by the flush are written on a microtask; let them go before the sockets close.
    await new Promise((r) => setImmediate(r));
    this.ws.closeAll();
    await this.admin.close();
    await Promise.race([this.closeBatcher(), timeout]);
    this.log.info({ seq: this.engine.lastSeq, releasedSeq: this.batcher.releasedSeq }, 'stopped');
  }
}
