/**
 * The risk core: accounts, pre-trade checks, post-trade settlement, mark prices, funding, margin calls,
 * liquidation and the ledger. It runs inside the engine's single thread, called at the points RiskPort
 * names; docs/risk.md describes the model for traders.
 */
import type { Command } from '../commands.js';
import type { Engine } from '../engine.js';
import { LEDGER_ENTRY_TYPES, type LedgerEntryType, type RejectReason } from '../enums.js';
import {
  type EventLog,
  K_LEDGER,
  L_ACCOUNT,
  L_AFTER,
  L_AMOUNT,
  L_BEFORE,
  L_CURRENCY,
  L_ID,
  L_ORDER,
  L_POSITION,
  L_TRADE,
  L_TYPE,
} from '../event-log.js';
import type { AccountState, PositionState } from '../events.js';
import { IdTable } from '../id-table.js';
import type { Instrument } from '../instrument.js';
import { F_MAY_BE_UNBACKED, type Order } from '../order.js';
import type { FillMoney, RiskPort } from '../risk-port.js';
import { add, type Units } from '../units.js';
import type { Account } from './account.js';
import { deposit, openAccount, setLeverageLimit, setStatus, withdraw } from './accounts.js';
import { endCommand, liquidationPrice } from './liquidation.js';
import { applyFunding, markPrice, setTpSl } from './marks.js';
import type { Position } from './position.js';
import { admit, admitAmend, reserve, unbackedLots } from './pretrade.js';
import { promises, reclipAll } from './reclip.js';
import { settle } from './settlement.js';

/** Money that left the accounts' balances for the exchange, per currency; the audit identity uses it. */
export interface CurrencyTotals {
  deposits: Units;
  withdrawals: Units;
  /** Fees charged minus rebates paid. */
  fees: Units;
  /** Funding rounding dust kept when no insurance fund exists to take it. */
  fundingDust: Units;
}

export class RiskCore implements RiskPort {
  readonly accounts = new IdTable<Account>();
  readonly insuranceFunds = new Map<string, Account>();
  /** Open positions per instrument id, for marks and funding. */
  readonly openPositions = new Map<number, Set<Position>>();
  readonly totals = new Map<string, CurrencyTotals>();
  nextAccountId = 1;
  nextPositionId = 1;
  nextLedgerId = 1;

  /** Accounts and positions changed by the current command (state events are coalesced per command). */
  readonly dirtyAccounts: Account[] = [];
  readonly dirtyPositions: Position[] = [];
  /** (account, instrument) pairs, flat, whose position shrank in this command: their promises get clipped. */
  readonly reclipQueue: Array<Account | Instrument> = [];
  readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  // ---- commands --------------------------------------------------------------------------------------------

  handle(cmd: Command): boolean {
    switch (cmd.type) {
      case 'open_account':
        openAccount(this, cmd);
        return true;
      case 'deposit':
        deposit(this, cmd);
        return true;
      case 'withdraw':
        withdraw(this, cmd);
        return true;
      case 'set_leverage_limit':
        setLeverageLimit(this, cmd);
        return true;
      case 'set_account_status':
        setStatus(this, cmd);
        return true;
      case 'mark_price':
        markPrice(this, cmd);
        return true;
      case 'funding':
        applyFunding(this, cmd);
        return true;
      case 'set_position_tpsl':
        setTpSl(this, cmd);
        return true;
      default:
        return false;
    }
  }

  // RiskPort: each step lives in the module named after it.
  admit(order: Order): RejectReason | null {
    return admit(this, order);
  }

  admitAmend(order: Order, priceTicks: number, quantityLots: number): RejectReason | null {
    return admitAmend(this, order, priceTicks, quantityLots);
  }

  reserve(order: Order): void {
    reserve(this, order);
  }

  unbackedLots(order: Order): number {
    return unbackedLots(this, order);
  }

  promises(order: Order): boolean {
    const account = this.accounts.get(order.accountId);
    return account !== undefined && promises(account, order);
  }

  settle(
    taker: Order,
    maker: Order,
    priceTicks: number,
    lots: number,
    tradeId: number,
    money: FillMoney,
  ): void {
    settle(this, taker, maker, priceTicks, lots, tradeId, money);
  }

  forget(order: Order): void {
    // Only an order that may promise its position can be in an account's promising set.
    if ((order.flags & F_MAY_BE_UNBACKED) === 0) return;
    this.accounts.get(order.accountId)?.promising?.delete(order);
  }

  endCommand(): void {
    if (this.reclipQueue.length > 0) reclipAll(this);
    endCommand(this);
    // A liquidation's fills shrink the makers' positions too: their promises are clipped in this command,
    // never left queued for the next one (which a restored engine would not have).
    if (this.reclipQueue.length > 0) reclipAll(this);
  }

  hasAccount(accountId: number): boolean {
    return this.accounts.has(accountId);
  }

  refuse(cmd: Command, reason: RejectReason): void {
    this.engine.reject(cmd, reason, null, null);
  }

  /** Changes a balance by one immutable ledger entry. */
  book(
    account: Account,
    type: LedgerEntryType,
    amount: Units,
    orderId: number | null,
    tradeId: number | null,
    positionId: number | null,
  ): void {
    const entryId = this.nextLedgerId++;
    account.liquidationInputsSeq = this.engine.currentSeq;
    const before = account.balance;
    account.balance = add(account.balance, amount);
    this.touchAccount(account);
    if (!this.engine.building) return; // replay: the entry is persisted already, only the balance and id count
    const log = this.engine.events;
    const o = log.begin(K_LEDGER);
    const f = log.f;
    f[o + L_ID] = entryId;
    f[o + L_ACCOUNT] = account.id;
    f[o + L_TYPE] = LEDGER_ENTRY_TYPES.indexOf(type);
    log.amount(o + L_AMOUNT, amount);
    log.amount(o + L_BEFORE, before);
    log.amount(o + L_AFTER, account.balance);
    f[o + L_CURRENCY] = log.str(account.currency);
    f[o + L_ORDER] = orderId === null ? -1 : orderId;
    f[o + L_TRADE] = tradeId === null ? -1 : tradeId;
    f[o + L_POSITION] = positionId === null ? -1 : positionId;
  }

  touchAccount(a: Account): void {
    const seq = this.engine.currentSeq;
    if (a.dirtySeq !== seq) {
      a.dirtySeq = seq;
      a.updatedAt = this.engine.now;
      this.dirtyAccounts.push(a);
    }
  }

  touchPosition(p: Position): void {
    const seq = this.engine.currentSeq;
    p.updatedAt = this.engine.now;
    if (p.dirtySeq !== seq) {
      p.dirtySeq = seq;
      this.dirtyPositions.push(p);
      const a = this.accounts.get(p.accountId)!;
      a.liquidationInputsSeq = seq;
      this.touchAccount(a);
    }
  }

  emitState(log: EventLog): void {
    const seq = this.engine.currentSeq;
    const accounts = this.dirtyAccounts;
    // A position's liquidation price depends on its account's balance and other positions: when one of
    // those changed, every open position of the account is re-emitted, so no persisted copy goes stale.
    // (An order placed or cancelled moves only the account's order margin: its positions stay as they are.)
    for (let i = 0; i < accounts.length; i++) {
      const a = accounts[i];
      if (a.liquidationInputsSeq === seq && a.positions.size > 0)
        for (const p of a.positions.values()) this.touchPosition(p);
    }
    const positions = this.dirtyPositions;
    if (!this.engine.building) {
      // Replay: the touches above happened (they stamp updatedAt, which is state); nothing is built.
      positions.length = 0;
      accounts.length = 0;
      return;
    }
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i];
      p.record(log, p.instrument.markUnits, liquidationPrice(this, p));
    }
    positions.length = 0;
    for (let i = 0; i < accounts.length; i++) accounts[i].record(log);
    accounts.length = 0;
  }

  accountState(accountId: number): AccountState | undefined {
    return this.accounts.get(accountId)?.toState();
  }

  accountsOfUser(userId: number): AccountState[] {
    const result: AccountState[] = [];
    for (const a of this.accounts.values()) if (a.userId === userId) result.push(a.toState());
    return result;
  }

  positionStates(accountId: number): PositionState[] {
    const a = this.accounts.get(accountId);
    if (a === undefined) return [];
    return [...a.positions.values()].map((p) => p.toState(p.instrument.markUnits, liquidationPrice(this, p)));
  }

  totalsOf(currency: string): CurrencyTotals {
    let t = this.totals.get(currency);
    if (t === undefined) {
      t = { deposits: 0, withdrawals: 0, fees: 0, fundingDust: 0 };
      this.totals.set(currency, t);
    }
    return t;
  }

  sortedOpen(instrumentId: number): Position[] {
    const set = this.openPositions.get(instrumentId);
    return set === undefined ? [] : [...set].sort((a, b) => a.id - b.id);
  }

  hashInto(put: (chunk: string) => void): void {
    put(`risk|ids=${this.nextAccountId},${this.nextPositionId},${this.nextLedgerId}`);
    for (const id of [...this.accounts.keys()].sort((a, b) => a - b)) {
      const a = this.accounts.get(id)!;
      put(
        [
          'account',
          a.id,
          a.userId,
          a.currency,
          a.maxLeverage,
          a.status,
          a.balance,
          a.marginUsed,
          a.orderMargin,
          a.realizedPnl,
          a.marginEnabled,
          a.autoLiquidation,
          a.marginCallThreshold,
          a.liquidationThreshold,
          a.insuranceFund,
          a.marginCalled,
          a.createdAt,
        ].join('|'),
      );
      const positions = [...a.positions.values()].sort((x, y) => x.instrument.id - y.instrument.id);
      for (const p of positions) {
        put(
          [
            'position',
            p.id,
            p.instrument.id,
            p.lots,
            p.basis,
            p.margin,
            p.leverage,
            p.realizedPnl,
            p.fees,
            p.funding,
            p.volume,
            p.tradeCount,
            p.stopLossTicks,
            p.takeProfitTicks,
            p.openedAt,
          ].join('|'),
        );
      }
    }
    for (const c of [...this.totals.keys()].sort()) {
      const t = this.totals.get(c)!;
      put(`totals|${c}|${t.deposits}|${t.withdrawals}|${t.fees}|${t.fundingDust}`);
    }
  }
}
