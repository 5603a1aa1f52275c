/**
 * Private account streams: per released command, one update per account it touched (orders, fills,
 * positions, account, ledger), numbered gap-free per account and kept for resume; subscribers get a
 * snapshot or, resuming in the same epoch, the updates they missed. Each update is stringified once and the
 * same string goes to every subscriber of the account.
 */
import type { PrivateUpdate, SubscribeParams } from '../protocol/types.js';
import type { Sequencer } from '../sequencer.js';
import type { AccountView, AccountViews } from './account-view.js';
import type { Deferrals } from './deferred.js';
import type { Responses } from './responses.js';
import type { Session } from './session.js';

export class PrivateStreams {
  /** Views touched by the command being routed; reused, nearly always one or two long. */
  private readonly touched: AccountView[] = [];

  constructor(
    private readonly views: AccountViews,
    private readonly deferrals: Deferrals,
    private readonly sequencer: Sequencer,
    private readonly responses: Responses,
  ) {}

  // ---- per-command updates -------------------------------------------------------------------------------

  /** Starts routing a command: no update is open. */
  beginCommand(): void {
    this.touched.length = 0;
  }

  /**
   * The private update being built for this command, or null while nobody has ever subscribed to the
   * account's stream: until then there is nothing to number or buffer (the first subscriber gets a snapshot).
   */
  update(v: AccountView, seq: number, ts: number): PrivateUpdate | null {
    if (v.pending !== null) return v.pending;
    if (!v.streaming) return null;
    this.touched.push(v);
    return v.begin(seq, ts);
  }

  /** Ends routing a command: numbers each open update and sends it to the account's subscribers. */
  publish(): void {
    const touched = this.touched;
    for (let k = 0; k < touched.length; k++) {
      const v = touched[k]!;
      if (v.pending === null) continue; // committed already (publish is re-run after a routing failure)
      const u = v.commit();
      if (v.subscribers.size > 0) {
        const msg = JSON.stringify(u);
        for (const s of v.subscribers) this.responses.send(s, msg);
      }
    }
  }

  // ---- subscribers ---------------------------------------------------------------------------------------

  /**
   * Subscribes `s` to account `acc` once the view's seed is released: the reply, then the missed updates
   * (resume) or a snapshot, then live updates.
   */
  subscribe(s: Session, idJson: string, acc: number, p: SubscribeParams, usIn: number): void {
    const v = this.views.open(acc);
    this.deferrals.defer(s, idJson, usIn, v.seedSeq, () => {
      if (s.closed) return;
      this.responses.reply(s, idJson, JSON.stringify({ channel: 'private', accountId: acc }), usIn);
      const missed = p.fromSeq !== undefined && p.epoch === v.epoch ? v.since(p.fromSeq) : undefined;
      if (missed !== undefined) for (const u of missed) this.responses.send(s, JSON.stringify(u));
      else this.responses.send(s, JSON.stringify(v.snapshot(this.sequencer.releasedSeq)));
      v.subscribers.add(s);
      v.streaming = true;
      s.channels.add(`private:${acc}`);
    });
  }

  unsubscribe(s: Session, acc: number): void {
    this.views.get(acc)?.subscribers.delete(s);
  }
}
