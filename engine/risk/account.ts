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
import type { AccountState } from '../events.js';
import { formatUnits } from '../numeric.js';
import { min } from './money.js';
import type { Position } from './position.js';

export class Account {
  readonly id: number;
  readonly userId: number;
  readonly currency: string;
  readonly createdAt: number;
  readonly marginEnabled: boolean;
  readonly autoLiquidation: boolean;
  readonly marginCallThreshold: bigint;
  readonly liquidationThreshold: bigint;
  readonly insuranceFund: boolean;
  maxLeverage: number;
  status: AccountStatus = 'ACTIVE';
  balance = 0n;
  marginUsed = 0n;
  orderMargin = 0n;
  realizedPnl = 0n;
  updatedAt: number;
  /** Set while the margin ratio is below the margin-call threshold, so a call is raised once per dip. */
  marginCalled = false;
  /** Open positions by instrument id. */
  readonly positions = new Map<number, Position>();
  dirtySeq = 0;

  constructor(
    id: number,
    userId: number,
    currency: string,
    maxLeverage: number,
    marginEnabled: boolean,
    autoLiquidation: boolean,
    marginCallThreshold: bigint,
    liquidationThreshold: bigint,
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

  unrealizedPnl(): bigint {
    let sum = 0n;
    for (const p of this.positions.values()) sum += p.unrealizedAt(p.instrument.markUnits);
    return sum;
  }

  equity(): bigint {
    return this.positions.size === 0 ? this.balance : this.balance + this.unrealizedPnl();
  }

  available(): bigint {
    const base = this.positions.size === 0 ? this.balance : min(this.balance, this.equity());
    return base - this.marginUsed - this.orderMargin;
  }

  toState(): AccountState {
    const upnl = this.unrealizedPnl();
    return {
      accountId: this.id,
      userId: this.userId,
      currency: this.currency,
      balance: formatUnits(this.balance),
      equity: formatUnits(this.balance + upnl),
      marginUsed: formatUnits(this.marginUsed),
      orderMargin: formatUnits(this.orderMargin),
      marginAvailable: formatUnits(this.available()),
      realizedPnl: formatUnits(this.realizedPnl),
      unrealizedPnl: formatUnits(upnl),
      maxLeverage: String(this.maxLeverage),
      marginCallThreshold: formatUnits(this.marginCallThreshold),
      liquidationThreshold: formatUnits(this.liquidationThreshold),
      marginEnabled: this.marginEnabled,
      autoLiquidation: this.autoLiquidation,
      status: this.status,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }
}
