/**
 * One WebSocket connection's state, kept in the socket's user data (a uWS socket must not be touched after
 * close, so everything else refers to the Session and checks `closed`).
 *
 * Sending is drain-driven: while uWS accepts a message without building backpressure it goes straight out;
 * once uWS reports backpressure, messages wait in our own queue and leave on `drain`. When that queue grows
 * past the slow-consumer limit the socket is closed (4008): the client reconnects and resumes its private
 * stream from the last seq it saw, and nobody else waits for it.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { ApiKeyRecord } from './keys.js';
import { TokenBucket } from './rate-limit.js';

export interface SocketData {
  session: Session | null;
  remote: string;
}

export const CLOSE_SLOW_CONSUMER = 4008;
export const CLOSE_SHUTDOWN = 1001;
export const CLOSE_KEY_REVOKED = 4003;

let nextSessionId = 1;

export class Session {
  readonly id = nextSessionId++;
  closed = false;
  key: ApiKeyRecord | null = null;
  userId = 0;
  defaultAccountId = 0;
  readonly bucket: TokenBucket;
  /** Channels this connection subscribes to ("private:<accountId>" for private streams). */
  readonly channels = new Set<string>();
  cancelOnDisconnect: 'off' | 'connection' | 'account' = 'off';
  /** Live orders placed over this connection (cancel-on-disconnect with connection scope). */
  readonly placedOrders = new Set<number>();
  private queue: string[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  /** uWS reported backpressure: later messages wait in `queue` until drain. */
  private backpressured = false;
  /** Messages produced outside a uWS callback, sent together in one corked write. */
  outbox: string[] = [];
  inOutbox = false;
  /** An auth request is in flight (its key lookup is async). */
  authPending = false;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    readonly remote: string,
    connBurst: number,
    connPerSec: number,
    private readonly slowConsumerBytes: number,
    private readonly onSlow: (s: Session) => void,
  ) {
    this.bucket = new TokenBucket(connBurst, connPerSec);
  }

  get authenticated(): boolean {
    return this.key !== null;
  }

  /** Sends now (caller is inside a uWS callback or a cork), or queues behind earlier backpressure. */
  send(msg: string): void {
    if (!this.closed) this.sendOrQueue(msg);
  }

  private enqueue(msg: string): void {
    this.queue.push(msg);
    this.queuedBytes += msg.length;
    if (this.queuedBytes + this.ws.getBufferedAmount() > this.slowConsumerBytes) this.slow();
  }

  /** Produced outside a uWS callback: buffered, then written in `flushOutbox` under one cork. */
  post(msg: string): boolean {
    if (this.closed) return false;
    this.outbox.push(msg);
    if (this.inOutbox) return false;
    this.inOutbox = true;
    return true;
  }

  flushOutbox(): void {
    this.inOutbox = false;
    const box = this.outbox;
    this.outbox = [];
    if (this.closed || box.length === 0) return;
    this.ws.cork(() => {
      for (let i = 0; i < box.length && !this.closed; i++) this.sendOrQueue(box[i]!);
    });
  }

  private sendOrQueue(msg: string): void {
    if (this.backpressured || this.queue.length > this.queueHead) {
      this.enqueue(msg);
      return;
    }
    // 1: sent; 0: accepted, but backpressure is building; 2: dropped (only past maxBackpressure, which is
    // set above our own limit, so it should not happen; if it does, the message waits in our queue).
    const r = this.ws.send(msg, false, false);
    if (r === 1) return;
    if (r === 2) this.enqueue(msg);
    else this.backpressured = true;
    if (!this.closed && this.ws.getBufferedAmount() > this.slowConsumerBytes) this.slow();
  }

  /** uWS drain: move queued messages out while uWS keeps accepting them without new backpressure. */
  drain(): void {
    if (this.closed) return;
    this.backpressured = false;
    while (this.queueHead < this.queue.length) {
      const msg = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = '';
      this.queuedBytes -= msg.length;
      const r = this.ws.send(msg, false, false);
      if (r !== 1) {
        if (r === 2) {
          this.queue[--this.queueHead] = msg;
          this.queuedBytes += msg.length;
        }
        this.backpressured = true;
        break;
      }
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  queuedLength(): number {
    return this.queue.length - this.queueHead;
  }

  private slow(): void {
    if (this.closed) return;
    this.onSlow(this);
    this.close(CLOSE_SLOW_CONSUMER, 'slow consumer: backpressure limit exceeded');
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.outbox = [];
    try {
      this.ws.end(code, reason);
    } catch {
      // already closed by the peer
    }
  }

  /** uWS close: the socket is gone. */
  markClosed(): void {
    this.closed = true;
    this.queue = [];
    this.outbox = [];
  }
}
