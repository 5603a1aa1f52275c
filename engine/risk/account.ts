/**
 * A trading account: cash balance, the margin its positions and orders hold, and its risk settings.
 *
 * Definitions (documented in docs/risk.md):
 * - equity = balance + unrealized PnL of its positions at their instruments' mark prices;
 * - margin available = min(balance, equity) - margin used - order margin: unrealized losses reduce what
 *   can be committed, unrealized profits do not add to it until realized;
 * - margin ratio = equity / margin used (undefined, reported as null, without positions). Below the
 *   margin-call threshold the account is margin-called; below the liquidation threshold it is liquidated.
 */
import { ACCOUNT_STATUSES, type AccountStatus } from '../enums.js';
import {
  A_AVAILABLE,
  A_BALANCE,
  A_BITS,
  A_CREATED,
  A_CURRENCY,
  A_EQUITY,
  A_ID,
  A_LIQUIDATION,
  A_MARGIN_CALL,
  A_MARGIN_USED,
  A_MAX_LEVERAGE,
  A_ORDER_MARGIN,
  A_REALIZED,
  A_UNREALIZED,
  A_UPDATED,
  A_USER,
  type EventLog,
  K_ACCOUNT,
  scratch,
} from '../event-log.js';
import type { AccountState } from '../events.js';
import type { Order } from '../order.js';
import { add, min, sub, type Units } from '../units.js';
import type { Position } from './position.js';

export class Account {
  readonly id: number;
  readonly userId: number;
  readonly currency: string;
  readonly createdAt: number;
  readonly marginEnabled: boolean;
  readonly autoLiquidation: boolean;
  readonly marginCallThreshold: Units;
  readonly liquidationThreshold: Units;
  readonly insuranceFund: boolean;
  maxLeverage: number;
  status: AccountStatus = 'ACTIVE';
  balance: Units = 0;
  marginUsed: Units = 0;
  orderMargin: Units = 0;
  realizedPnl: Units = 0;
  updatedAt: number;
  /** Set while the margin ratio is below the margin-call threshold, so a call is raised once per dip. */
  marginCalled = false;
  /** Open positions by instrument id (changed only through addPosition / removePosition). */
  readonly positions: ReadonlyMap<number, Position> = new Map<number, Position>();
  /** The same positions as a list, in the Map's order: summed on every margin check and account state. */
  private readonly open: Position[] = [];
  /** Orders whose size the positions promise (reclip.ts); null until first needed. */
  promising: Set<Order> | null = null;
  dirtySeq = 0;
  /**
   * The seq of the last command that changed an input of this account's liquidation prices: its balance or
   * one of its positions (size, basis, margin, mark). An order reservation alone changes none of them.
   */
  liquidationInputsSeq = 0;
  constructor(
    id: number,
    userId: number,
    currency: string,
    maxLeverage: number,
    marginEnabled: boolean,
    autoLiquidation: boolean,
    marginCallThreshold: Units,
    liquidationThreshold: Units,
    insuranceFund: boolean,
    ts: number,
  ) {
    this.id = id;
    this.userId = userId;
    this.currency = currency;
    this.maxLeverage = maxLeverage;
    this.marginEnabled = marginEnabled;
    this.autoLiquidation = autoLiquidation;
    this.marginCallThreshold = marginCallThreshold;
    this.liquidationThreshold = liquidationThreshold;
    this.insuranceFund = insuranceFund;
    this.createdAt = ts;
    this.updatedAt = ts;
  }

  /** Appends the account's current state to `log` as an account record. */
  record(log: EventLog): void {
    const upnl = this.positions.size === 0 ? 0 : this.unrealizedPnl();
    const equity = upnl === 0 ? this.balance : add(this.balance, upnl);
    // = available(), with the unrealized PnL computed once
    const base = this.positions.size === 0 ? this.balance : min(this.balance, equity);
    const o = log.begin(K_ACCOUNT);
    const f = log.f;
    f[o + A_ID] = this.id;
    f[o + A_USER] = this.userId;
    f[o + A_CURRENCY] = log.str(this.currency);
    log.amount(o + A_BALANCE, this.balance);
    log.amount(o + A_EQUITY, equity);
    log.amount(o + A_MARGIN_USED, this.marginUsed);
    log.amount(o + A_ORDER_MARGIN, this.orderMargin);
    log.amount(o + A_AVAILABLE, sub(sub(base, this.marginUsed), this.orderMargin));
    log.amount(o + A_REALIZED, this.realizedPnl);
    log.amount(o + A_UNREALIZED, upnl);
    f[o + A_MAX_LEVERAGE] = this.maxLeverage;
    log.amount(o + A_MARGIN_CALL, this.marginCallThreshold);
    log.amount(o + A_LIQUIDATION, this.liquidationThreshold);
    f[o + A_BITS] =
      (this.marginEnabled ? 1 : 0) |
      (this.autoLiquidation ? 2 : 0) |
      (ACCOUNT_STATUSES.indexOf(this.status) << 2);
    f[o + A_CREATED] = this.createdAt;
    f[o + A_UPDATED] = this.updatedAt;
  }

  addPosition(p: Position): void {
    (this.positions as Map<number, Position>).set(p.instrument.id, p);
    this.open.push(p);
  }

  removePosition(p: Position): void {
    (this.positions as Map<number, Position>).delete(p.instrument.id);
    const i = this.open.indexOf(p);
    if (i >= 0) this.open.splice(i, 1);
  }

  unrealizedPnl(): Units {
    const open = this.open;
    if (open.length === 1) return open[0].unrealizedAt(open[0].instrument.markUnits);
    let sum: Units = 0;
    for (let i = 0; i < open.length; i++) sum = add(sum, open[i].unrealizedAt(open[i].instrument.markUnits));
    return sum;
  }

  equity(): Units {
    return this.positions.size === 0 ? this.balance : add(this.balance, this.unrealizedPnl());
  }

  available(): Units {
    const base = this.positions.size === 0 ? this.balance : min(this.balance, this.equity());
    return sub(sub(base, this.marginUsed), this.orderMargin);
  }

  /** The account's state as queries answer it (formatted by the same reader as its events). */
  toState(): AccountState {
    const log = scratch();
    this.record(log);
    const { type: _t, seq: _s, ts: _ts, ...state } = log.account(0);
    return state;
  }
}
