/**
 * Which users have an authenticated connection, and since when a user has had none. The gateway drops an
 * account's view (account-view.ts) only once its user has been away for the idle time: every way back to the
 * account goes through a login of that user, and a login re-reads from the database what the dropped view
 * knew (client order ids that may not be reused), as it does after a restart.
 */
export class Presence {
  /** userId -> open authenticated sessions, and when the count last fell to 0 (Date.now() ms). */
  private readonly users = new Map<number, { sessions: number; idleSinceMs: number }>();

  connected(userId: number): void {
    const u = this.users.get(userId);
    if (u === undefined) this.users.set(userId, { sessions: 1, idleSinceMs: 0 });
    else u.sessions++;
  }

  disconnected(userId: number, nowMs: number): void {
    const u = this.users.get(userId);
    if (u === undefined || u.sessions === 0) return;
    if (--u.sessions === 0) u.idleSinceMs = nowMs;
  }

  /** True when the user has had no connection for at least `idleMs` (or never had one since the start). */
  away(userId: number, nowMs: number, idleMs: number): boolean {
    const u = this.users.get(userId);
    return u === undefined || (u.sessions === 0 && nowMs - u.idleSinceMs >= idleMs);
  }

  /** Forgets users away for `idleMs` or more: an unknown user counts as away, so nothing changes. */
  forgetAway(nowMs: number, idleMs: number): void {
    for (const [id, u] of this.users)
      if (u.sessions === 0 && nowMs - u.idleSinceMs >= idleMs) this.users.delete(id);
  }
}
