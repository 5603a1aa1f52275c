/**
 * What the world outside engine/ may do with an engine: apply sequenced commands, read state.
 * The gateway, recovery and tests program against this interface, never against the engine's internals.
 */
import type { Command } from './commands.js';
import type { Side } from './enums.js';
import type { EventLog } from './event-log.js';
import type {
  AccountState,
  EngineEvent,
  InstrumentSpec,
  OrderState,
  PositionState,
  UserState,
} from './events.js';

export interface BookLevel {
  price: string;
  quantity: string;
  orders: number;
}

export interface BookSnapshot {
  symbol: string;
  /** seq of the last command applied when the snapshot was taken. */
  seq: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

export interface EngineOptions {
  /** Run the risk core (margin checks, positions, fees, ledger). Off: a pure matching engine. Default on. */
  risk?: boolean;
}

export interface EngineApi {
  /**
   * Applies one command. Its events are appended to `out` (the caller owns and reuses the array, so the hot
   * path allocates nothing for it). `cmd.seq` must be `lastSeq + 1`: the engine throws otherwise, since a
   * gap means the caller has lost a command.
   */
  apply(cmd: Command, out: EngineEvent[]): void;
  /**
   * Applies one command, appending its events to `log` as records (event-log.ts): what the server does,
   * formatting events only where they leave the process. `apply` is this plus reading the records back.
   */
  applyInto(cmd: Command, log: EventLog): void;
  /**
   * Applies one command for its state alone, as recovery does with a journal whose events are already
   * persisted: every state change and every id assignment happens exactly as in `apply` (same state hash,
   * same snapshot), but the state, trade, ledger and book events are not built, which is most of a
   * command's cost. A checkpoint's hash is not computed either: call `stateHash()` where one is needed.
   */
  replay(cmd: Command): void;
  /** seq of the last applied command; 0 for a fresh engine. */
  readonly lastSeq: number;

  user(userId: number): UserState | undefined;
  instrument(symbol: string): InstrumentSpec | undefined;
  instruments(): InstrumentSpec[];
  account(accountId: number): AccountState | undefined;
  /**
   * The user owning an account, or undefined: the gateway's access check on every request, which must not
   * pay for building and formatting a whole AccountState.
   */
  accountOwner(accountId: number): number | undefined;
  accountsOfUser(userId: number): AccountState[];
  /** A live order (PENDING_TRIGGER, NEW, PARTIALLY_FILLED); final orders live in the database. */
  order(orderId: number): OrderState | undefined;
  orderByClientId(accountId: number, clientOrderId: string): OrderState | undefined;
  openOrders(accountId: number, symbol?: string): OrderState[];
  positions(accountId: number): PositionState[];
  book(symbol: string, depth: number): BookSnapshot | undefined;
  bestPrice(symbol: string, side: Side): string | undefined;
  lastTradePrice(symbol: string): string | undefined;
  /** SHA-256 (hex) of the canonical encoding of the whole state. */
  stateHash(): string;
}
