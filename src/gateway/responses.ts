/**
 * How everything the gateway says leaves it: replies, errors and stream messages, one path for all.
 *
 * Inside a uWS callback (`direct`) a message goes straight to its socket, which uWS has corked. Anywhere else
 * it waits in the session's outbox, and every outbox touched is flushed together (one corked write per
 * socket): at the end of a released batch, or in a microtask for anything sent outside one.
 *
 * uWS corks one socket at a time, and during a callback the calling socket holds the cork: a batch released
 * inside a callback (a full batch sealed during push) would write every other socket's messages one
 * syscall each. Its outboxes are flushed after the callback instead (setImmediate; a microtask would still
 * run inside it), and until then the calling socket's own direct sends queue behind its outbox, so each
 * socket still gets its messages in order.
 */
import type { Metrics } from '../http/metrics.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { RequestId } from '../protocol/types.js';
import type { Clock } from '../sequencer.js';
import type { Session } from './session.js';

/** A request refused before it reached the engine; thrown by handlers, answered as an error. */
export class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** A request id as it goes back into the reply (`"id":<idJson>`). */
export function idJsonOf(id: RequestId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

/**
 * `retryAfterMs` of an UNAVAILABLE answer that has no better estimate (recovering, stopping, a dependency
 * down): every UNAVAILABLE carries one, so a client that sleeps on it never spins (docs/protocol.md).
 */
export const UNAVAILABLE_RETRY_MS = 1000;

export class Responses {
  /** True while inside a uWS callback: sends go out directly (uWS corks them). */
  direct = false;
  /** Inside a uWS callback, even while `direct` is off (routing a batch released during the callback). */
  private inCallback = false;
  private readonly touched: Session[] = [];
  private flushScheduled = false;
  private readonly flushNow = () => this.flush();

  constructor(
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  /** A uWS callback starts: the calling socket is corked, sends to it go out directly. */
  enterCallback(): void {
    this.inCallback = true;
    this.direct = true;
  }

  leaveCallback(): void {
    this.inCallback = false;
    this.direct = false;
  }

  /** One message to one session, now (direct) or through its outbox. */
  send(s: Session, msg: string): void {
    if (this.direct && !s.inOutbox) s.send(msg);
    else if (s.post(msg)) {
      this.touched.push(s);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        if (this.inCallback) setImmediate(this.flushNow);
        else queueMicrotask(this.flushNow);
      }
    }
  }

  /** At the end of a released batch: flush now, unless inside a uWS callback (then it is scheduled after). */
  flushUnlessInCallback(): void {
    if (!this.inCallback) this.flush();
  }

  /** Writes every outbox that has something waiting. */
  flush(): void {
    this.flushScheduled = false;
    const t = this.touched;
    for (let i = 0; i < t.length; i++) t[i]!.flushOutbox();
    t.length = 0;
  }

  reply(s: Session, idJson: string, resultJson: string, usIn: number): void {
    this.send(s, `{"id":${idJson},"result":${resultJson},"usIn":${usIn},"usOut":${this.clock.nowMicros()}}`);
  }

  error(
    s: Session,
    idJson: string,
    code: ErrorCode,
    message: string,
    usIn: number,
    data?: Record<string, unknown>,
  ): void {
    this.metrics.gatewayErrors.inc(code);
    const body = data === undefined ? { code, message } : { code, message, data };
    this.send(
      s,
      `{"id":${idJson},"error":${JSON.stringify(body)},"usIn":${usIn},"usOut":${this.clock.nowMicros()}}`,
    );
  }
}
