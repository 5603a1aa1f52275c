/**
 * Values by engine-assigned id (accounts, an account's live orders): ids count up from 1, so a plain array
 * indexed by id finds a value with one indexed load, where a Map costs a hash and a probe on every lookup,
 * and the risk core looks an account up several times per order. Ids too large for the array (none that the
 * engine assigns in practice) live in a Map beside it. Entries are never removed, and iteration is in
 * insertion order, as a Map's (snapshots are written in that order).
 */

/** Largest id kept in the array: beyond, a Map (an array that long would be mostly holes). */
const DENSE_LIMIT = 1 << 24;

export class IdTable<T> {
  private readonly items: Array<T | undefined> = [];
  private readonly sparse = new Map<number, T>();
  /** Ids in insertion order. */
  private readonly order: number[] = [];

  get size(): number {
    return this.order.length;
  }

  get(id: number): T | undefined {
    if (id > 0 && id < DENSE_LIMIT) return this.items[id];
    return this.sparse.size === 0 ? undefined : this.sparse.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, value: T): this {
    if (id > 0 && id < DENSE_LIMIT && Number.isInteger(id)) {
      const items = this.items;
      // Grow by pushing, never by writing past the end: a sparse write would turn the array into a dictionary.
      while (items.length <= id) items.push(undefined);
      if (items[id] === undefined) this.order.push(id);
      items[id] = value;
    } else {
      if (!this.sparse.has(id)) this.order.push(id);
      this.sparse.set(id, value);
    }
    return this;
  }

  /** Ids in insertion order. */
  keys(): number[] {
    return [...this.order];
  }

  /** Values in insertion order. */
  values(): T[] {
    return this.order.map((id) => this.get(id)!);
  }
}
