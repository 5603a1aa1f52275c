/**
 * The uWebSockets.js application: the WebSocket endpoint (any path; `/ws` by convention) plus whatever HTTP
 * routes the server adds (health, metrics). Socket details stay here; protocol logic is in gateway.ts.
 */
import uWS from 'uWebSockets.js';
import type { Config } from '../config.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { Clock } from '../sequencer.js';
import type { Gateway } from './gateway.js';
import { CLOSE_SHUTDOWN, Session, type SocketData } from './session.js';

/** The npm package silently falls back to a `ws`-based shim when no native binary matches this Node. */
export function uwsImplementation(): 'native' | 'shim' {
  return String(uWS.App).includes('[native code]') ? 'native' : 'shim';
}

type WsConfig = Pick<
  Config,
  | 'host'
  | 'port'
  | 'maxMessageBytes'
  | 'hardMaxMessageBytes'
  | 'connRateBurst'
  | 'connRatePerSec'
  | 'slowConsumerBytes'
  | 'idleTimeoutSec'
>;

export class WsServer {
  readonly app: uWS.TemplatedApp;
  private listenSocket: uWS.us_listen_socket | null = null;
  private readonly sockets = new Set<uWS.WebSocket<SocketData>>();
  accepting = true;
  port = 0;

  constructor(
    private readonly gateway: Gateway,
    private readonly cfg: WsConfig,
    private readonly log: Logger,
    metrics: Metrics,
    private readonly clock: Clock,
  ) {
    this.app = uWS.App();
    this.app.ws<SocketData>('/*', {
      // Frames above the hard limit close the connection (1009); between the soft limit and it the request
      // is refused with MESSAGE_TOO_LARGE and the connection stays usable.
      maxPayloadLength: cfg.hardMaxMessageBytes,
      // Above our own slow-consumer limit, so uWS never drops a message on its own: we close instead.
      maxBackpressure: cfg.slowConsumerBytes * 2,
      closeOnBackpressureLimit: 1,
      idleTimeout: cfg.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        if (!this.accepting) {
          res.writeStatus('503 Service Unavailable').end('shutting down');
          return;
        }
        const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
        res.upgrade<SocketData>(
          { session: null, remote },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        const data = ws.getUserData();
        data.session = new Session(
          ws,
          data.remote,
          cfg.connRateBurst,
          cfg.connRatePerSec,
          cfg.slowConsumerBytes,
          (s) => {
            metrics.slowConsumers.inc();
            this.log.warn({ session: s.id, remote: s.remote }, 'slow consumer disconnected');
          },
        );
        this.sockets.add(ws);
        this.gateway.opened(data.session);
      },
      message: (ws, message) => {
        const s = ws.getUserData().session!;
        const usIn = this.clock.nowMicros();
        if (message.byteLength > cfg.maxMessageBytes) {
          this.gateway.tooLarge(s, message.byteLength, usIn);
          return;
        }
        // The ArrayBuffer is only valid during this callback: decoding copies it into a string.
        this.gateway.message(s, Buffer.from(message).toString('utf8'), usIn);
      },
      drain: (ws) => ws.getUserData().session?.drain(),
      close: (ws) => {
        this.sockets.delete(ws);
        const s = ws.getUserData().session;
        if (s !== null) this.gateway.closed(s);
      },
    });
    metrics.gauge('exchange_connections', 'Open WebSocket connections', () => this.sockets.size);
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(this.cfg.host, this.cfg.port, (ls) => {
        if (ls === false) {
          reject(new Error(`cannot listen on ${this.cfg.host}:${this.cfg.port}`));
          return;
        }
        this.listenSocket = ls;
        this.port = uWS.us_socket_local_port(ls);
        resolve(this.port);
      });
    });
  }

  /** Stops accepting connections (existing ones stay until closeAll). */
  stopListening(): void {
    this.accepting = false;
    if (this.listenSocket !== null) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
  }

  closeAll(): void {
    for (const ws of [...this.sockets]) {
      const s = ws.getUserData().session;
      if (s !== null) s.close(CLOSE_SHUTDOWN, 'server shutting down');
      else ws.close();
    }
  }
}
