/**
 * The dead-man's switch (`cancel_all_after`), per account: a trader arms it with a timeout and keeps
 * re-arming it; if it runs out, every live order of the account is cancelled (cancelReason
 * CANCEL_ALL_AFTER). It belongs to the account, not to a connection: it keeps running across disconnects
 * (that is its point: a trader whose process hangs, or whose connection dies somewhere a close never
 * reaches the server, still gets flat), and any connection of the account re-arms or disarms it.
 *
 * Timers live in this process only: a server restart disarms them all (the orders rest again after it, as
 * with cancel-on-disconnect); the typed client arms the switch again when it reconnects.
 */
import type { CommandBody } from '../../engine/commands.js';
import type { Logger } from '../log.js';
import type { CancelAllAfterResult } from '../protocol/types.js';

interface Armed {
  timer: NodeJS.Timeout;
  timeoutMs: number;
  /** Server time (µs) when it fires. */
  triggerAt: number;
}

export class CancelAllAfter {
  private readonly armed = new Map<number, Armed>();
  /** Switches that ran out and submitted their cancel_all (since the start). */
  firedTotal = 0;

  constructor(
    /** Sequences a command (throws when the gateway is not open). */
    private readonly submit: (body: CommandBody) => number,
    private readonly log: Logger,
  ) {}

  /** Arms (or re-arms: the new timeout replaces the old) or, with 0, disarms the account's switch. */
  set(accountId: number, timeoutMs: number, nowUs: number): CancelAllAfterResult {
    const previous = this.armed.get(accountId);
    if (previous !== undefined) clearTimeout(previous.timer);
    if (timeoutMs === 0) {
      this.armed.delete(accountId);
      return { accountId, timeoutMs: 0, triggerAt: null };
    }
    const triggerAt = nowUs + timeoutMs * 1000;
    const timer = setTimeout(() => this.fire(accountId), timeoutMs);
    // A switch alone never keeps the process alive (the server's sockets do).
    timer.unref();
    this.armed.set(accountId, { timer, timeoutMs, triggerAt });
    return { accountId, timeoutMs, triggerAt };
  }

  /** Accounts whose switch is armed now. */
  get size(): number {
    return this.armed.size;
  }

  /** Disarms every switch without firing (the server is shutting down: orders are kept for the restart). */
  clear(): void {
    for (const a of this.armed.values()) clearTimeout(a.timer);
    this.armed.clear();
  }

  private fire(accountId: number): void {
    const a = this.armed.get(accountId);
    if (a === undefined) return;
    this.armed.delete(accountId);
    try {
      const seq = this.submit({ type: 'cancel_all', accountId, source: 'CANCEL_ALL_AFTER' });
      this.firedTotal++;
      this.log.info({ accountId, timeoutMs: a.timeoutMs, seq }, 'cancel_all_after ran out: cancelling all');
    } catch (e) {
      // Not open (shutting down): nothing is cancelled, as with a graceful shutdown's other orders.
      this.log.warn({ err: e, accountId }, 'cancel_all_after ran out but the gateway is not open');
    }
  }
}
