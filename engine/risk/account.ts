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
import type { AccountStatus } from '../enums.js';
import type { AccountEvent, AccountState } from '../events.js';
import type { Order } from '../order.js';
import { add, format, min, sub, type Units } from '../units.js';
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
  /** Open positions by instrument id. */
  readonly positions = new Map<number, Position>();
  /** Orders whose size the positions promise (reclip.ts); null until first needed. */
  promising: Set<Order> | null = null;
  dirtySeq = 0;
  /**
   * The seq of the last command that changed an input of this account's liquidation prices: its balance or
   * one of its positions (size, basis, margin, mark). An order reservation alone changes none of them.
   */
  liquidationInputsSeq = 0;
  // Formatted strings of the amounts, kept with the value they were formatted from: an account event is
  // emitted on most commands, and most of its amounts did not change since the last one.
  private kBalance: Units = 0;
  private sBalance = '0';
  private kMarginUsed: Units = 0;
  private sMarginUsed = '0';
  private kOrderMargin: Units = 0;
  private sOrderMargin = '0';
  private kRealized: Units = 0;
  private sRealized = '0';
  private readonly sMarginCall: string;
  private readonly sLiquidation: string;

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
    this.sMarginCall = format(marginCallThreshold);
    this.sLiquidation = format(liquidationThreshold);
  }

  /** format(balance), remembered until the balance changes. */
  balanceString(): string {
    const v = this.balance;
    if (v !== this.kBalance) {
      this.kBalance = v;
      this.sBalance = format(v);
    }
    return this.sBalance;
  }

  private marginUsedString(): string {
    const v = this.marginUsed;
    if (v !== this.kMarginUsed) {
      this.kMarginUsed = v;
      this.sMarginUsed = format(v);
    }
    return this.sMarginUsed;
  }

  private orderMarginString(): string {
    const v = this.orderMargin;
    if (v !== this.kOrderMargin) {
      this.kOrderMargin = v;
      this.sOrderMargin = format(v);
    }
    return this.sOrderMargin;
  }

  private realizedString(): string {
    const v = this.realizedPnl;
    if (v !== this.kRealized) {
      this.kRealized = v;
      this.sRealized = format(v);
    }
    return this.sRealized;
  }

  /**
   * The account's state as an `account` event, built as one literal (spreading toState() into an event
   * copies property by property). Same fields, same order, same values as toState().
   */
  toEvent(seq: number, ts: number): AccountEvent {
    const upnl = this.positions.size === 0 ? 0 : this.unrealizedPnl();
    const equity = add(this.balance, upnl);
    // = available(), with the unrealized PnL computed once
    const base = this.positions.size === 0 ? this.balance : min(this.balance, equity);
    return {
      type: 'account',
      seq,
      ts,
      accountId: this.id,
      userId: this.userId,
      currency: this.currency,
      balance: this.balanceString(),
      equity: upnl === 0 ? this.balanceString() : format(equity),
      marginUsed: this.marginUsedString(),
      orderMargin: this.orderMarginString(),
      marginAvailable: format(sub(sub(base, this.marginUsed), this.orderMargin)),
      realizedPnl: this.realizedString(),
      unrealizedPnl: upnl === 0 ? '0' : format(upnl),
      maxLeverage: String(this.maxLeverage),
      marginCallThreshold: this.sMarginCall,
      liquidationThreshold: this.sLiquidation,
      marginEnabled: this.marginEnabled,
      autoLiquidation: this.autoLiquidation,
      status: this.status,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }

  unrealizedPnl(): Units {
    let sum: Units = 0;
    for (const p of this.positions.values()) sum = add(sum, p.unrealizedAt(p.instrument.markUnits));
    return sum;
  }

  equity(): Units {
    return this.positions.size === 0 ? this.balance : add(this.balance, this.unrealizedPnl());
  }

  available(): Units {
    const base = this.positions.size === 0 ? this.balance : min(this.balance, this.equity());
    return sub(sub(base, this.marginUsed), this.orderMargin);
  }

  toState(): AccountState {
    const upnl = this.unrealizedPnl();
    return {
      accountId: this.id,
      userId: this.userId,
      currency: this.currency,
      balance: format(this.balance),
      equity: format(add(this.balance, upnl)),
      marginUsed: format(this.marginUsed),
      orderMargin: format(this.orderMargin),
      marginAvailable: format(this.available()),
      realizedPnl: format(this.realizedPnl),
      unrealizedPnl: format(upnl),
      maxLeverage: String(this.maxLeverage),
      marginCallThreshold: format(this.marginCallThreshold),
      liquidationThreshold: format(this.liquidationThreshold),
      marginEnabled: this.marginEnabled,
      autoLiquidation: this.autoLiquidation,
      status: this.status,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }
}
