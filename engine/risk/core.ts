/**
 * The risk core: accounts, pre-trade checks, post-trade settlement, mark prices, funding, margin calls,
 * liquidation and the ledger. It runs inside the engine's single thread, called at the points RiskPort
 * names; docs/risk.md describes the model for traders.
 */
import type {
  Command,
  Deposit,
  Funding,
  MarkPrice,
  OpenAccount,
  SetAccountStatus,
  SetLeverageLimit,
  SetPositionTpSl,
  Withdraw,
} from '../commands.js';
import type { Engine, Market } from '../engine.js';
import { ACCOUNT_STATUSES, type LedgerEntryType, type RejectReason } from '../enums.js';
import type { AccountState, EngineEvent, PositionState } from '../events.js';
import { isCurrency } from '../instrument.js';
import { divRound, fitsNumeric, formatUnits, parseUnits, UNIT } from '../numeric.js';
import type { Order } from '../order.js';
import type { FillMoney, RiskPort } from '../risk-port.js';
import { isPositiveId, parseLeverage } from '../validate.js';
import { Account } from './account.js';
import { fee, funding, initialMargin, ratio } from './money.js';
import { Position } from './position.js';

const DEFAULT_MARGIN_CALL = 80_000_000n; // 0.8
const DEFAULT_LIQUIDATION = 50_000_000n; // 0.5

/** Money that left the accounts' balances for the exchange, per currency; the audit identity uses it. */
export interface CurrencyTotals {
  deposits: bigint;
  withdrawals: bigint;
  /** Fees charged minus rebates paid. */
  fees: bigint;
  /** Funding rounding dust kept when no insurance fund exists to take it. */
  fundingDust: bigint;
}

export class RiskCore implements RiskPort {
  readonly accounts = new Map<number, Account>();
  readonly insuranceFunds = new Map<string, Account>();
  /** Open positions per instrument id, for marks and funding. */
  readonly openPositions = new Map<number, Set<Position>>();
  readonly totals = new Map<string, CurrencyTotals>();
  nextAccountId = 1;
  nextPositionId = 1;
  nextLedgerId = 1;

  private dirtyAccounts: Account[] = [];
  private dirtyPositions: Position[] = [];
  private readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  // ---- commands --------------------------------------------------------------------------------------------

  handle(cmd: Command): boolean {
    switch (cmd.type) {
      case 'open_account':
        this.openAccount(cmd);
        return true;
      case 'deposit':
        this.deposit(cmd);
        return true;
      case 'withdraw':
        this.withdraw(cmd);
        return true;
      case 'set_leverage_limit':
        this.setLeverageLimit(cmd);
        return true;
      case 'set_account_status':
        this.setStatus(cmd);
        return true;
      case 'mark_price':
        this.markPrice(cmd);
        return true;
      case 'funding':
        this.funding(cmd);
        return true;
      case 'set_position_tpsl':
        this.setTpSl(cmd);
        return true;
      default:
        return false;
    }
  }

  hasAccount(accountId: number): boolean {
    return this.accounts.has(accountId);
  }

  private refuse(cmd: Command, reason: RejectReason): void {
    this.engine.reject(cmd, reason, null, null);
  }

  private openAccount(cmd: OpenAccount & Command): void {
    if (!isPositiveId(cmd.userId) || this.engine.users.get(cmd.userId) === undefined) {
      return this.refuse(cmd, 'INVALID_COMMAND');
    }
    if (!isCurrency(cmd.currency)) return this.refuse(cmd, 'INVALID_COMMAND');
    if (typeof cmd.marginEnabled !== 'boolean' || typeof cmd.autoLiquidation !== 'boolean') {
      return this.refuse(cmd, 'INVALID_COMMAND');
    }
    const leverage = parseLeverage(cmd.maxLeverage);
    if (leverage === 0) return this.refuse(cmd, 'INVALID_LEVERAGE');
    const call =
      cmd.marginCallThreshold === undefined ? DEFAULT_MARGIN_CALL : parseUnits(cmd.marginCallThreshold);
    const liq =
      cmd.liquidationThreshold === undefined ? DEFAULT_LIQUIDATION : parseUnits(cmd.liquidationThreshold);
    // Thresholds are ratios of equity to margin used: 0 < liquidation < margin call.
    if (call === undefined || liq === undefined || liq <= 0n || call <= liq)
      return this.refuse(cmd, 'INVALID_AMOUNT');
    const fund = cmd.insuranceFund === true;
    if (cmd.insuranceFund !== undefined && typeof cmd.insuranceFund !== 'boolean') {
      return this.refuse(cmd, 'INVALID_COMMAND');
    }
    if (fund && this.insuranceFunds.has(cmd.currency)) return this.refuse(cmd, 'DUPLICATE_INSURANCE_FUND');
    const account = new Account(
      this.nextAccountId++,
      cmd.userId,
      cmd.currency,
      cmd.marginEnabled ? leverage : 1,
      cmd.marginEnabled,
      cmd.autoLiquidation,
      call,
      liq,
      fund,
      cmd.ts,
    );
    this.accounts.set(account.id, account);
    if (fund) this.insuranceFunds.set(account.currency, account);
    this.touchAccount(account);
  }

  /** Looks up the account a command names; refuses the command when it is missing. */
  private accountFor(cmd: Command & { accountId: number }): Account | undefined {
    const account = isPositiveId(cmd.accountId) ? this.accounts.get(cmd.accountId) : undefined;
    if (account === undefined) this.engine.reject(cmd, 'UNKNOWN_ACCOUNT', null, null);
    return account;
  }

  private deposit(cmd: Deposit & Command): void {
    const account = this.accountFor(cmd);
    if (account === undefined) return;
    const amount = parseUnits(cmd.amount);
    if (amount === undefined || amount <= 0n || !fitsNumeric(account.balance + amount)) {
      return this.refuse(cmd, 'INVALID_AMOUNT');
    }
    if (account.status === 'CLOSED') return this.refuse(cmd, 'ACCOUNT_NOT_ACTIVE');
    this.totalsOf(account.currency).deposits += amount;
    this.book(account, 'DEPOSIT', amount, null, null, null);
  }

  private withdraw(cmd: Withdraw & Command): void {
    const account = this.accountFor(cmd);
    if (account === undefined) return;
    const amount = parseUnits(cmd.amount);
    if (amount === undefined || amount <= 0n) return this.refuse(cmd, 'INVALID_AMOUNT');
    if (amount > account.available()) return this.refuse(cmd, 'WITHDRAWAL_EXCEEDS_AVAILABLE');
    this.totalsOf(account.currency).withdrawals += amount;
    this.book(account, 'WITHDRAWAL', -amount, null, null, null);
  }

  private setLeverageLimit(cmd: SetLeverageLimit & Command): void {
    const account = this.accountFor(cmd);
    if (account === undefined) return;
    const leverage = parseLeverage(cmd.maxLeverage);
    if (leverage === 0 || (!account.marginEnabled && leverage !== 1))
      return this.refuse(cmd, 'INVALID_LEVERAGE');
    account.maxLeverage = leverage;
    this.touchAccount(account);
  }

  private setStatus(cmd: SetAccountStatus & Command): void {
    const account = this.accountFor(cmd);
    if (account === undefined) return;
    if (!ACCOUNT_STATUSES.includes(cmd.status)) return this.refuse(cmd, 'INVALID_COMMAND');
    if (account.status === 'CLOSED') return this.refuse(cmd, 'ACCOUNT_NOT_ACTIVE');
    if (cmd.status === 'CLOSED' && account.positions.size > 0)
      return this.refuse(cmd, 'ACCOUNT_HAS_EXPOSURE');
    account.status = cmd.status;
    if (cmd.status !== 'ACTIVE') this.engine.cancelOrders(account.id, undefined, 'ACCOUNT_SUSPENDED');
    this.touchAccount(account);
  }

  private marketFor(cmd: Command & { symbol: string }): Market | undefined {
    const market = typeof cmd.symbol === 'string' ? this.engine.markets.get(cmd.symbol) : undefined;
    if (market === undefined) this.engine.reject(cmd, 'UNKNOWN_INSTRUMENT', null, null);
    return market;
  }

  private markPrice(cmd: MarkPrice & Command): void {
    const market = this.marketFor(cmd);
    if (market === undefined) return;
    const price = parseUnits(cmd.price);
    if (price === undefined || price <= 0n) return this.refuse(cmd, 'INVALID_PRICE');
    const ins = market.instrument;
    ins.markUnits = price;
    this.engine.emit({
      type: 'mark_price',
      seq: cmd.seq,
      ts: cmd.ts,
      symbol: ins.symbol,
      price: formatUnits(price),
    });
    const positions = this.sortedOpen(ins.id);
    for (const p of positions) {
      this.touchPosition(p);
      this.touchAccount(this.accounts.get(p.accountId)!);
    }
    for (const p of positions) if (p.status === 'OPEN' && p.lots !== 0) this.checkTpSl(market, p, price);
  }

  /** Fires a position's stop-loss or take-profit when the mark crosses it: a reduce-only market close. */
  private checkTpSl(market: Market, p: Position, mark: bigint): void {
    const ins = market.instrument;
    const sl = p.stopLossTicks === 0 ? 0n : ins.priceUnits(p.stopLossTicks);
    const tp = p.takeProfitTicks === 0 ? 0n : ins.priceUnits(p.takeProfitTicks);
    let origin: 'STOP_LOSS' | 'TAKE_PROFIT' | null = null;
    if (p.lots > 0) {
      if (sl !== 0n && mark <= sl) origin = 'STOP_LOSS';
      else if (tp !== 0n && mark >= tp) origin = 'TAKE_PROFIT';
    } else {
      if (sl !== 0n && mark >= sl) origin = 'STOP_LOSS';
      else if (tp !== 0n && mark <= tp) origin = 'TAKE_PROFIT';
    }
    if (origin === null) return;
    p.stopLossTicks = 0;
    p.takeProfitTicks = 0;
    this.touchPosition(p);
    this.close(market, p, origin);
  }

  /** Sends a reduce-only market order for the whole position; returns it after it ran. */
  private close(market: Market, p: Position, origin: 'STOP_LOSS' | 'TAKE_PROFIT' | 'LIQUIDATION'): Order {
    const lots = p.lots > 0 ? p.lots : -p.lots;
    const order = this.engine.internalOrder(
      market,
      p.accountId,
      p.lots > 0 ? 'SELL' : 'BUY',
      'MARKET',
      'IOC',
      0,
      lots,
      p.leverage,
      origin,
    );
    this.engine.submit(market, order);
    return order;
  }

  private funding(cmd: Funding & Command): void {
    const market = this.marketFor(cmd);
    if (market === undefined) return;
    const ins = market.instrument;
    if (ins.kind !== 'PERPETUAL') return this.refuse(cmd, 'NOT_PERPETUAL');
    const rate = parseUnits(cmd.rate, true);
    if (rate === undefined) return this.refuse(cmd, 'INVALID_AMOUNT');
    const mark =
      ins.markUnits !== 0n ? ins.markUnits : ins.lastTradeTicks > 0 ? ins.priceUnits(ins.lastTradeTicks) : 0n;
    if (mark === 0n) return this.refuse(cmd, 'NO_MARK_PRICE');
    this.engine.emit({
      type: 'funding',
      seq: cmd.seq,
      ts: cmd.ts,
      symbol: ins.symbol,
      rate: formatUnits(rate),
      markPrice: formatUnits(mark),
    });
    let net = 0n;
    for (const p of this.sortedOpen(ins.id)) {
      const abs = p.lots > 0 ? p.lots : -p.lots;
      const notional = (mark * ins.qtyUnits(abs)) / UNIT;
      const amount = funding(notional, rate, p.lots > 0);
      if (amount === 0n) continue;
      net += amount;
      p.funding += amount;
      this.touchPosition(p);
      this.book(this.accounts.get(p.accountId)!, 'FUNDING', amount, null, null, p.id);
    }
    // Payers round up and receivers down, so the net is never positive: the dust is the exchange's.
    if (net !== 0n) {
      const fund = this.insuranceFunds.get(ins.spec.quoteCurrency);
      if (fund !== undefined) this.book(fund, 'INSURANCE', -net, null, null, null);
      else this.totalsOf(ins.spec.quoteCurrency).fundingDust -= net;
    }
  }

  private setTpSl(cmd: SetPositionTpSl & Command): void {
    const account = this.accountFor(cmd);
    if (account === undefined) return;
    const market = this.marketFor(cmd);
    if (market === undefined) return;
    const p = account.positions.get(market.instrument.id);
    if (p === undefined) return this.refuse(cmd, 'REDUCE_ONLY_NO_POSITION');
    const parse = (v: string | null | undefined, current: number): number | RejectReason => {
      if (v === undefined) return current;
      if (v === null) return 0;
      return market.instrument.priceToTicks(v);
    };
    const sl = parse(cmd.stopLoss, p.stopLossTicks);
    const tp = parse(cmd.takeProfit, p.takeProfitTicks);
    if (typeof sl === 'string') return this.refuse(cmd, sl);
    if (typeof tp === 'string') return this.refuse(cmd, tp);
    p.stopLossTicks = sl;
    p.takeProfitTicks = tp;
    this.touchPosition(p);
  }

  // ---- pre-trade -------------------------------------------------------------------------------------------

  admit(order: Order): RejectReason | null {
    const account = this.accounts.get(order.accountId)!;
    if (account.status !== 'ACTIVE') return 'ACCOUNT_NOT_ACTIVE';
    const ins = order.instrument;
    if (account.currency !== ins.spec.quoteCurrency) return 'CURRENCY_MISMATCH';
    const cap = Math.min(account.maxLeverage, ins.maxLeverage);
    if (order.leverage === 0) order.leverage = cap;
    else if (order.leverage > cap) return 'LEVERAGE_TOO_HIGH';

    const position = account.positions.get(ins.id);
    if (order.reduceOnly) {
      const reason = this.clipReduceOnly(order, position);
      if (reason !== null) return reason;
    } else if (!account.marginEnabled && order.side === 'SELL') {
      // A cash account sells only what it holds (less what its other sells already promise).
      const held = position === undefined || position.lots < 0 ? 0 : position.lots;
      if (order.remainingLots > held - this.pendingLots(order, false)) return 'SHORT_NOT_ALLOWED';
    }

    order.reserveTicks = this.reservePrice(order);
    const required = this.reservation(order);
    if (required > account.available())
      return account.marginEnabled ? 'INSUFFICIENT_MARGIN' : 'INSUFFICIENT_BALANCE';
    order.reserved = required;
    account.orderMargin += required;
    this.touchAccount(account);
    return null;
  }

  /**
   * Reduce-only orders are clipped, not refused: the quantity beyond what the position (less the account's
   * other live reduce-only orders on the same side) can absorb is moved to cancelled at once.
   */
  private clipReduceOnly(order: Order, position: Position | undefined): RejectReason | null {
    if (position === undefined || position.lots === 0) return 'REDUCE_ONLY_NO_POSITION';
    if (position.lots > 0 === (order.side === 'BUY')) return 'REDUCE_ONLY_WOULD_INCREASE';
    const size = position.lots > 0 ? position.lots : -position.lots;
    const room = size - this.pendingLots(order, true);
    if (room <= 0) return 'REDUCE_ONLY_WOULD_INCREASE';
    if (order.remainingLots > room) {
      order.cancelledLots += order.remainingLots - room;
      order.remainingLots = room;
    }
    return null;
  }

  /** Remaining lots of the account's other live orders on the same instrument and side. */
  private pendingLots(order: Order, reduceOnlyOnly: boolean): number {
    const owner = this.engine.owners.get(order.accountId);
    if (owner === undefined) return 0;
    let sum = 0;
    for (const o of owner.live) {
      if (
        o !== order &&
        o.instrument === order.instrument &&
        o.side === order.side &&
        (!reduceOnlyOnly || o.reduceOnly)
      ) {
        sum += o.remainingLots;
      }
    }
    return sum;
  }

  /** The price an order's reservation is computed at: its limit, its stop, or (market) the worst level it reaches. */
  private reservePrice(order: Order): number {
    if (order.priceTicks > 0) return order.priceTicks;
    if (order.stopTicks > 0) return order.stopTicks;
    const market = this.engine.markets.get(order.instrument.symbol)!;
    const levels = market.book.opposite(order.side).levels;
    let need = order.remainingLots;
    let worst = 0;
    for (let i = levels.length - 1; i >= 0 && need > 0; i--) {
      worst = levels[i].priceTicks;
      need -= levels[i].totalLots;
    }
    return worst;
  }

  /**
   * What an order holds while live: initial margin on its remaining notional at its leverage, plus the
   * taker fee on it (the worst case). Reduce-only orders and a cash account's sells hold the fee only.
   */
  private reservation(order: Order): bigint {
    if (order.remainingLots === 0 || order.reserveTicks === 0) return 0n;
    const notional = order.instrument.notional(order.reserveTicks, order.remainingLots);
    const f = fee(notional, order.commissionRate);
    const feePart = f > 0n ? f : 0n;
    const account = this.accounts.get(order.accountId)!;
    if (order.reduceOnly || (!account.marginEnabled && order.side === 'SELL')) return feePart;
    return initialMargin(notional, order.leverage) + feePart;
  }

  admitAmend(order: Order, priceTicks: number, quantityLots: number): RejectReason | null {
    const account = this.accounts.get(order.accountId)!;
    if (account.status !== 'ACTIVE') return 'ACCOUNT_NOT_ACTIVE';
    const savedPrice = order.priceTicks;
    const savedQty = order.quantityLots;
    const savedRemaining = order.remainingLots;
    const savedReserveTicks = order.reserveTicks;
    order.priceTicks = priceTicks;
    order.quantityLots = quantityLots;
    order.remainingLots = quantityLots - order.filledLots - order.cancelledLots;
    if (order.priceTicks > 0) order.reserveTicks = priceTicks;
    const required = this.reservation(order);
    order.priceTicks = savedPrice;
    order.quantityLots = savedQty;
    order.remainingLots = savedRemaining;
    order.reserveTicks = savedReserveTicks;
    if (required - order.reserved > account.available()) {
      return account.marginEnabled ? 'INSUFFICIENT_MARGIN' : 'INSUFFICIENT_BALANCE';
    }
    return null;
  }

  reserve(order: Order): void {
    if (order.priceTicks > 0) order.reserveTicks = order.priceTicks;
    const next = order.isLive ? this.reservation(order) : 0n;
    if (next === order.reserved) return;
    const account = this.accounts.get(order.accountId)!;
    account.orderMargin += next - order.reserved;
    order.reserved = next;
    this.touchAccount(account);
  }

  // ---- post-trade ------------------------------------------------------------------------------------------

  settle(
    taker: Order,
    maker: Order,
    priceTicks: number,
    lots: number,
    tradeId: number,
    money: FillMoney,
  ): void {
    const ins = taker.instrument;
    const notional = ins.notional(priceTicks, lots);
    const makerFee = fee(notional, ins.makerFeeRate);
    const takerFee = fee(notional, taker.commissionRate);
    const makerPnl = this.fill(maker, lots, priceTicks, notional, makerFee, tradeId);
    const takerPnl = this.fill(taker, lots, priceTicks, notional, takerFee, tradeId);
    money.makerFee = formatUnits(makerFee);
    money.takerFee = formatUnits(takerFee);
    money.makerRealizedPnl = formatUnits(makerPnl);
    money.takerRealizedPnl = formatUnits(takerPnl);
    this.reserve(maker);
    this.reserve(taker);
  }

  /** One side of a fill: position update, fee and realized PnL to the ledger. Returns the realized PnL. */
  private fill(
    order: Order,
    lots: number,
    priceTicks: number,
    notional: bigint,
    f: bigint,
    tradeId: number,
  ): bigint {
    const account = this.accounts.get(order.accountId)!;
    const ins = order.instrument;
    const sign: 1 | -1 = order.side === 'BUY' ? 1 : -1;
    let position = account.positions.get(ins.id);
    if (position === undefined) position = this.openPosition(account, order);
    const touched = position;
    touched.fees += f;
    touched.volume += notional;
    touched.tradeCount++;
    this.touchPosition(touched);
    this.totalsOf(account.currency).fees += f;
    if (f !== 0n) this.book(account, 'FEE', -f, order.id, tradeId, touched.id);

    let pnl = 0n;
    if (position.lots === 0 || position.lots > 0 === sign > 0) {
      const before = position.margin;
      position.open(sign, lots, priceTicks, order.leverage);
      account.marginUsed += position.margin - before;
    } else {
      const size = position.lots > 0 ? position.lots : -position.lots;
      const closing = Math.min(lots, size);
      const r = position.reduce(closing, priceTicks);
      account.marginUsed -= r.marginReleased;
      account.realizedPnl += r.pnl;
      pnl = r.pnl;
      if (pnl !== 0n) this.book(account, 'PNL', pnl, order.id, tradeId, position.id);
      if (position.lots === 0)
        this.retire(account, position, order.origin === 'LIQUIDATION' ? 'LIQUIDATED' : 'CLOSED');
      if (lots > closing) {
        // Through zero: the rest opens a new position in the other direction.
        const next = this.openPosition(account, order);
        const before = next.margin;
        next.open(sign, lots - closing, priceTicks, order.leverage);
        account.marginUsed += next.margin - before;
      }
    }
    return pnl;
  }

  private openPosition(account: Account, order: Order): Position {
    const ins = order.instrument;
    const p = new Position(this.nextPositionId++, account.id, ins, order.leverage, this.engine.now);
    account.positions.set(ins.id, p);
    let set = this.openPositions.get(ins.id);
    if (set === undefined) {
      set = new Set();
      this.openPositions.set(ins.id, set);
    }
    set.add(p);
    this.touchPosition(p);
    return p;
  }

  /** A position back at zero ends for good; any margin left by rounding returns to the account. */
  private retire(account: Account, p: Position, status: 'CLOSED' | 'LIQUIDATED'): void {
    account.marginUsed -= p.margin;
    p.margin = 0n;
    p.status = status;
    p.closedAt = this.engine.now;
    account.positions.delete(p.instrument.id);
    this.openPositions.get(p.instrument.id)?.delete(p);
    this.touchPosition(p);
  }

  // ---- end of command: margin calls and liquidation ---------------------------------------------------------

  endCommand(): void {
    // A liquidation's fills change the makers' accounts, which may have been checked already in this pass:
    // repeat until a pass liquidates nobody. Each account is liquidated at most once per command, so this
    // ends even when the book cannot absorb a position and no insurance fund exists.
    const accounts = this.dirtyAccounts;
    let liquidated: Set<Account> | null = null;
    for (let again = true; again; ) {
      again = false;
      for (let i = 0; i < accounts.length; i++) {
        const a = accounts[i];
        if (a.positions.size === 0 || a.marginUsed === 0n || a.insuranceFund) continue;
        const equity = a.equity();
        // Compared exactly (equity / marginUsed < threshold), never through a rounded ratio.
        if (
          a.autoLiquidation &&
          equity * UNIT < a.liquidationThreshold * a.marginUsed &&
          !liquidated?.has(a)
        ) {
          liquidated ??= new Set();
          liquidated.add(a);
          this.liquidate(a);
          again = true;
          continue;
        }
        if (equity * UNIT < a.marginCallThreshold * a.marginUsed) {
          if (!a.marginCalled) {
            a.marginCalled = true;
            this.engine.emit({
              type: 'margin_call',
              seq: this.engine.currentSeq,
              ts: this.engine.now,
              accountId: a.id,
              marginRatio: formatUnits(ratio(equity, a.marginUsed)),
            });
          }
        } else a.marginCalled = false;
      }
    }
  }

  /**
   * Liquidation: cancel the account's orders, close each position with a reduce-only market order against
   * the book; what the book cannot absorb is taken over by the insurance fund at the mark price. A balance
   * left negative is covered by the insurance fund as far as it goes. Without an insurance fund the
   * unabsorbed part stays open (reported in the liquidation event) and is retried at the next check.
   */
  private liquidate(account: Account): void {
    this.engine.cancelOrders(account.id, undefined, 'LIQUIDATION');
    const positions = [...account.positions.values()].sort((a, b) => a.instrument.id - b.instrument.id);
    const fund = this.insuranceFunds.get(account.currency);
    for (const p of positions) {
      const market = this.engine.markets.get(p.instrument.symbol)!;
      const size = p.lots > 0 ? p.lots : -p.lots;
      const order = this.close(market, p, 'LIQUIDATION');
      if (p.status === 'OPEN' && p.lots !== 0 && fund !== undefined && fund !== account) {
        this.transferToFund(account, fund, p, market, order);
      }
      const absorbed = size - (p.status === 'OPEN' ? Math.abs(p.lots) : 0);
      this.engine.emit({
        type: 'liquidation',
        seq: this.engine.currentSeq,
        ts: this.engine.now,
        accountId: account.id,
        symbol: p.instrument.symbol,
        positionId: p.id,
        bookQuantity: p.instrument.qtyString(order.filledLots),
        insuranceQuantity: p.instrument.qtyString(absorbed - order.filledLots),
      });
    }
    if (account.balance < 0n && fund !== undefined && fund !== account) {
      const cover = -account.balance;
      this.book(fund, 'INSURANCE', -cover, null, null, null);
      this.book(account, 'INSURANCE', cover, null, null, null);
    }
  }

  /** The insurance fund takes over the rest of a position at the mark price (rounded to the tick). */
  private transferToFund(account: Account, fund: Account, p: Position, market: Market, order: Order): void {
    const ins = market.instrument;
    const mark = ins.markUnits !== 0n ? ins.markUnits : ins.priceUnits(ins.lastTradeTicks);
    const ticks = Number(divRound(mark, ins.tickUnits, 'half_even'));
    if (ticks <= 0) return;
    const lots = p.lots > 0 ? p.lots : -p.lots;
    const r = p.reduce(lots, ticks);
    account.marginUsed -= r.marginReleased;
    account.realizedPnl += r.pnl;
    if (r.pnl !== 0n) this.book(account, 'LIQUIDATION', r.pnl, order.id, null, p.id);
    this.retire(account, p, 'LIQUIDATED');
    let fp = fund.positions.get(ins.id);
    if (fp === undefined) fp = this.openPositionFor(fund, ins.id, market);
    const sign: 1 | -1 = order.side === 'BUY' ? -1 : 1; // the fund takes the side the liquidation order could not
    if (fp.lots === 0 || fp.lots > 0 === sign > 0) {
      const before = fp.margin;
      fp.open(sign, lots, ticks, 1);
      fund.marginUsed += fp.margin - before;
    } else {
      const size = fp.lots > 0 ? fp.lots : -fp.lots;
      const closing = Math.min(lots, size);
      const fr = fp.reduce(closing, ticks);
      fund.marginUsed -= fr.marginReleased;
      fund.realizedPnl += fr.pnl;
      if (fr.pnl !== 0n) this.book(fund, 'LIQUIDATION', fr.pnl, null, null, fp.id);
      if (fp.lots === 0) this.retire(fund, fp, 'CLOSED');
      if (lots > closing) {
        const next = this.openPositionFor(fund, ins.id, market);
        next.open(sign, lots - closing, ticks, 1);
        fund.marginUsed += next.margin;
      }
    }
    this.touchPosition(fp);
  }

  private openPositionFor(account: Account, _instrumentId: number, market: Market): Position {
    const p = new Position(this.nextPositionId++, account.id, market.instrument, 1, this.engine.now);
    account.positions.set(market.instrument.id, p);
    let set = this.openPositions.get(market.instrument.id);
    if (set === undefined) {
      set = new Set();
      this.openPositions.set(market.instrument.id, set);
    }
    set.add(p);
    this.touchPosition(p);
    return p;
  }

  // ---- ledger and state events -----------------------------------------------------------------------------

  /** Changes a balance by one immutable ledger entry. */
  private book(
    account: Account,
    type: LedgerEntryType,
    amount: bigint,
    orderId: number | null,
    tradeId: number | null,
    positionId: number | null,
  ): void {
    const before = account.balance;
    account.balance = before + amount;
    this.touchAccount(account);
    this.engine.emit({
      type: 'ledger',
      seq: this.engine.currentSeq,
      ts: this.engine.now,
      entryId: this.nextLedgerId++,
      accountId: account.id,
      entryType: type,
      amount: formatUnits(amount),
      balanceBefore: formatUnits(before),
      balanceAfter: formatUnits(account.balance),
      currency: account.currency,
      orderId,
      tradeId,
      positionId,
    });
  }

  private touchAccount(a: Account): void {
    const seq = this.engine.currentSeq;
    if (a.dirtySeq !== seq) {
      a.dirtySeq = seq;
      a.updatedAt = this.engine.now;
      this.dirtyAccounts.push(a);
    }
  }

  private touchPosition(p: Position): void {
    const seq = this.engine.currentSeq;
    p.updatedAt = this.engine.now;
    if (p.dirtySeq !== seq) {
      p.dirtySeq = seq;
      this.dirtyPositions.push(p);
      this.touchAccount(this.accounts.get(p.accountId)!);
    }
  }

  emitState(out: EngineEvent[]): void {
    const seq = this.engine.currentSeq;
    const ts = this.engine.now;
    const positions = this.dirtyPositions;
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i];
      const state = p.toState(p.instrument.markUnits, this.liquidationPrice(p));
      out.push({ type: 'position', seq, ts, ...state });
    }
    positions.length = 0;
    const accounts = this.dirtyAccounts;
    for (let i = 0; i < accounts.length; i++)
      out.push({ type: 'account', seq, ts, ...accounts[i].toState() });
    accounts.length = 0;
  }

  /**
   * The mark price at which this position alone would bring its account to the liquidation threshold,
   * other positions held at their marks: long rounds up, short down (the earlier warning). Null when no
   * positive price would do it, or for a closed position.
   */
  liquidationPrice(p: Position): bigint | null {
    if (p.lots === 0) return null;
    const account = this.accounts.get(p.accountId)!;
    if (account.marginUsed === 0n) return null;
    const others = account.unrealizedPnl() - p.unrealizedAt(p.instrument.markUnits);
    const floor = (account.liquidationThreshold * account.marginUsed) / UNIT;
    const abs = p.lots > 0 ? p.lots : -p.lots;
    const qty = p.instrument.qtyUnits(abs);
    // long: balance + others + P*q - basis = floor  =>  P = (floor - balance - others + basis) / q
    // short: balance + others + basis - P*q = floor  =>  P = (balance + others + basis - floor) / q
    const numerator =
      p.lots > 0 ? floor - account.balance - others + p.basis : account.balance + others + p.basis - floor;
    if (numerator <= 0n) return null;
    return divRound(numerator * UNIT, qty, p.lots > 0 ? 'up' : 'down');
  }

  // ---- queries, hashing --------------------------------------------------------------------------------------

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
    return [...a.positions.values()].map((p) => p.toState(p.instrument.markUnits, this.liquidationPrice(p)));
  }

  totalsOf(currency: string): CurrencyTotals {
    let t = this.totals.get(currency);
    if (t === undefined) {
      t = { deposits: 0n, withdrawals: 0n, fees: 0n, fundingDust: 0n };
      this.totals.set(currency, t);
    }
    return t;
  }

  private sortedOpen(instrumentId: number): Position[] {
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
