/**
 * The seam between matching and the risk core. The matcher calls these at fixed points of an order's life;
 * with risk off (a pure matching engine, as benchmarks compare) the engine holds no RiskPort at all.
 */
import type { Command } from './commands.js';
import type { RejectReason } from './enums.js';
import type { EventLog } from './event-log.js';
import type { Order } from './order.js';
import type { Units } from './units.js';

/** Money results of one fill, filled in by the risk core (1e-8 units). */
export interface FillMoney {
  makerFee: Units;
  takerFee: Units;
  makerRealizedPnl: Units;
  takerRealizedPnl: Units;
}

export interface RiskPort {
  /** Applies a risk command (accounts, deposits, marks, funding...). Returns false if it is not one. */
  handle(cmd: Command): boolean;
  /** Whether an account exists (orders for unknown accounts are refused). */
  hasAccount(accountId: number): boolean;
  /**
   * Pre-trade check of a new order before it touches a book; on success reserves its margin.
   * May clip a reduce-only order's quantity (documented in risk). Returns a reason to refuse it.
   */
  admit(order: Order): RejectReason | null;
  /** Pre-check of an amend to (priceTicks, quantityLots); nothing changes when it refuses. */
  admitAmend(order: Order, priceTicks: number, quantityLots: number): RejectReason | null;
  /** Settles one fill for both sides: fees, positions, realized PnL, ledger; fills `money`. */
  settle(
    taker: Order,
    maker: Order,
    priceTicks: number,
    lots: number,
    tradeId: number,
    money: FillMoney,
  ): void;
  /**
   * Just before an order executes (also a triggered stop, an amended order run again, an engine-generated
   * close): the part of a reduce-only order, or of a cash account's sell, that its position no longer backs.
   * The engine moves that many lots to cancelled (all of them: the order is cancelled REDUCE_ONLY_CLIPPED).
   */
  unbackedLots(order: Order): number;
  /** Whether an order's size is a promise of its position (reduce-only, or a cash account's sell). */
  promises(order: Order): boolean;
  /** Re-computes an order's reservation after its remaining quantity or price changed (or it ended). */
  reserve(order: Order): void;
  /** An ended order's object is about to be reused for another order: drop every reference to it. */
  forget(order: Order): void;
  /** Runs after a command's matching, before any state is emitted: margin calls and liquidations. */
  endCommand(): void;
  /** Emits the positions and accounts the command changed (after the orders, before the book). */
  emitState(log: EventLog): void;
  /** Canonical state for the engine's hash and snapshots. */
  hashInto(update: (chunk: string) => void): void;
}
