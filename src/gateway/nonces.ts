/**
 * Nonces seen per API key inside the signature window. A nonce older than the window cannot be replayed
 * (its timestamp is stale), so entries are forgotten after twice the window: memory stays bounded by the
 * login rate.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  private lastPrune = 0;

  constructor(private readonly windowMs: number) {}

  /** Records the nonce; false when it was already used with this key. */
  use(apiKey: string, nonce: string, nowMs: number): boolean {
    this.prune(nowMs);
    const k = `${apiKey}\n${nonce}`;
    if (this.seen.has(k)) return false;
    this.seen.set(k, nowMs);
    return true;
  }

  private prune(nowMs: number): void {
    if (nowMs - this.lastPrune < this.windowMs) return;
    this.lastPrune = nowMs;
    const cutoff = nowMs - 2 * this.windowMs;
    // Map iterates in insertion order, which is time order: stop at the first young entry.
    for (const [k, t] of this.seen) {
      if (t >= cutoff) break;
      this.seen.delete(k);
    }
  }
}
