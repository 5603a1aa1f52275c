/**
 * A hand-made stand-in for the engine's output: a seeded, internally consistent stream of commands and the
 * events engine/events.ts describes (users, instruments, accounts, deposits, orders resting and filling,
 * trades with fees, positions opening and closing, ledger chains). The persistence tests that exercise
 * delivery (duplicates, order, crashes) use it so they do not depend on the engine's matching rules.
 */
import type { Command } from '../../engine/commands.js';
import type { Side } from '../../engine/enums.js';
import type {
  AccountState,
  EngineEvent,
  LedgerEntry,
  OrderState,
  PositionState,
  Trade,
} from '../../engine/events.js';
import { formatUnits, mulUnits, parseUnits } from '../../engine/numeric.js';
import type { Batch } from '../../src/pipeline/types.js';

/** mulberry32: small, seeded, good enough to shuffle test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const u = (s: string) => parseUnits(s, true)!;
const f = formatUnits;

export interface Step {
  command: Command;
  events: EngineEvent[];
}

export interface SyntheticOptions {
  seed: number;
  accounts: number;
  fills: number;
  startTs?: number;
}

/** The stream, plus the final state a correct persistence must reproduce. */
export interface Synthetic {
  steps: Step[];
  accounts: Map<number, AccountState>;
  orders: Map<number, OrderState>;
  positions: Map<number, PositionState>;
  trades: Trade[];
  ledger: LedgerEntry[];
}

export function synthetic(opts: SyntheticOptions): Synthetic {
  const rand = rng(opts.seed);
  const steps: Step[] = [];
  const accounts = new Map<number, AccountState>();
  const orders = new Map<number, OrderState>();
  const positions = new Map<number, PositionState>();
  const openPosition = new Map<string, number>();
  const trades: Trade[] = [];
  const ledger: LedgerEntry[] = [];
  let seq = 0;
  let ts = opts.startTs ?? 1_732_500_000_000_001;
  let nextOrder = 1;
  let nextPosition = 1;
  let nextLedger = 1;
  let nextTrade = 1;
  const symbol = 'BTC-PERP';

  const step = (body: Record<string, unknown>, make: (seq: number, ts: number) => EngineEvent[]) => {
    seq++;
    ts += 1 + Math.floor(rand() * 900);
    const command = { ...body, seq, ts } as unknown as Command;
    steps.push({ command, events: make(seq, ts) });
  };
  const stamp = (seq: number, ts: number) => ({ seq, ts });

  step({ type: 'create_user', name: 'trader', email: null }, (s, t) => [
    { type: 'user_created', ...stamp(s, t), userId: 1, name: 'trader', email: null, createdAt: t },
  ]);
  step(
    {
      type: 'create_instrument',
      symbol,
      kind: 'PERPETUAL',
      baseCurrency: 'BTC',
      quoteCurrency: 'USDT',
      tickSize: '0.5',
      lotSize: '0.001',
      minQuantity: '0.001',
      maxQuantity: '1000',
      maxLeverage: '100',
      makerFeeRate: '0.0002',
      takerFeeRate: '0.0005',
      fundingIntervalSeconds: 28800,
    },
    (s, t) => [
      {
        type: 'instrument_created',
        ...stamp(s, t),
        instrumentId: 1,
        symbol,
        kind: 'PERPETUAL',
        baseCurrency: 'BTC',
        quoteCurrency: 'USDT',
        tickSize: '0.5',
        lotSize: '0.001',
        minQuantity: '0.001',
        maxQuantity: '1000',
        maxLeverage: '100',
        makerFeeRate: '0.0002',
        takerFeeRate: '0.0005',
        fundingIntervalSeconds: 28800,
      },
    ],
  );

  const accountEvent = (a: AccountState, s: number, t: number): EngineEvent => {
    a.updatedAt = t;
    return { type: 'account', ...stamp(s, t), ...a };
  };
  const credit = (
    a: AccountState,
    amount: bigint,
    type: LedgerEntry['entryType'],
    s: number,
    t: number,
    extra: Partial<LedgerEntry> = {},
  ): EngineEvent => {
    const before = u(a.balance);
    const after = before + amount;
    a.balance = f(after);
    a.equity = a.balance;
    a.marginAvailable = a.balance;
    const entry: LedgerEntry = {
      entryId: nextLedger++,
      accountId: a.accountId,
      entryType: type,
      amount: f(amount),
      balanceBefore: f(before),
      balanceAfter: f(after),
      currency: 'USDT',
      orderId: null,
      tradeId: null,
      positionId: null,
      ...extra,
    };
    ledger.push(entry);
    return { type: 'ledger', ...stamp(s, t), ...entry };
  };

  for (let id = 1; id <= opts.accounts; id++) {
    step(
      {
        type: 'open_account',
        userId: 1,
        currency: 'USDT',
        maxLeverage: '20',
        marginEnabled: true,
        autoLiquidation: true,
      },
      (s, t) => {
        const a: AccountState = {
          accountId: id,
          userId: 1,
          currency: 'USDT',
          balance: '0',
          equity: '0',
          marginUsed: '0',
          orderMargin: '0',
          marginAvailable: '0',
          realizedPnl: '0',
          unrealizedPnl: '0',
          maxLeverage: '20',
          marginCallThreshold: '0.8',
          liquidationThreshold: '0.5',
          marginEnabled: true,
          autoLiquidation: true,
          status: 'ACTIVE',
          createdAt: t,
          updatedAt: t,
        };
        accounts.set(id, a);
        return [accountEvent(a, s, t)];
      },
    );
    // The largest balances NUMERIC(20,8) holds go through too, to the last digit.
    const amount = id === 1 ? '999999999.99999999' : `${1000 + Math.floor(rand() * 100000)}.12345678`;
    step({ type: 'deposit', accountId: id, amount }, (s, t) => {
      const a = accounts.get(id)!;
      return [credit(a, u(amount), 'DEPOSIT', s, t), accountEvent(a, s, t)];
    });
  }

  const orderState = (
    id: number,
    accountId: number,
    side: Side,
    price: string,
    qty: string,
    t: number,
  ): OrderState => ({
    orderId: id,
    accountId,
    clientOrderId: `c${id}`,
    symbol,
    side,
    orderType: 'LIMIT',
    timeInForce: 'GTC',
    price,
    stopPrice: null,
    quantity: qty,
    filledQuantity: '0',
    remainingQuantity: qty,
    cancelledQuantity: '0',
    averagePrice: null,
    filledNotional: '0',
    status: 'NEW',
    postOnly: false,
    reduceOnly: false,
    leverage: '10',
    commissionRate: '0.0005',
    rejectionReason: null,
    cancelReason: null,
    createdAt: t,
    updatedAt: t,
    expiredAt: null,
    origin: 'USER',
  });

  const fill = (o: OrderState, qty: bigint, price: bigint, t: number) => {
    const filled = u(o.filledQuantity) + qty;
    o.filledQuantity = f(filled);
    o.remainingQuantity = f(u(o.quantity) - filled - u(o.cancelledQuantity));
    const notional = u(o.filledNotional) + mulUnits(price, qty, 'down');
    o.filledNotional = f(notional);
    o.averagePrice = f((notional * 100_000_000n) / filled);
    o.status = u(o.remainingQuantity) === 0n ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updatedAt = t;
  };

  const positionFill = (
    accountId: number,
    side: Side,
    qty: bigint,
    price: bigint,
    fee: bigint,
    s: number,
    t: number,
  ): EngineEvent => {
    const key = `${accountId}`;
    let id = openPosition.get(key);
    let p = id === undefined ? undefined : positions.get(id);
    if (!p) {
      id = nextPosition++;
      openPosition.set(key, id);
      p = {
        positionId: id,
        accountId,
        symbol,
        side: side === 'BUY' ? 'LONG' : 'SHORT',
        quantity: '0',
        entryPrice: f(price),
        markPrice: null,
        realizedPnl: '0',
        unrealizedPnl: '0',
        leverage: '10',
        margin: '0',
        liquidationPrice: null,
        stopLoss: null,
        takeProfit: null,
        tradeCount: 0,
        volume: '0',
        fees: '0',
        funding: '0',
        status: 'OPEN',
        openedAt: t,
        closedAt: null,
        updatedAt: t,
      };
      positions.set(id, p);
    }
    const signed = (p.side === 'SHORT' ? -1n : 1n) * u(p.quantity) + (side === 'BUY' ? qty : -qty);
    p.quantity = f(signed < 0n ? -signed : signed);
    p.side = signed > 0n ? 'LONG' : signed < 0n ? 'SHORT' : 'FLAT';
    p.tradeCount++;
    p.volume = f(u(p.volume) + qty);
    p.fees = f(u(p.fees) + fee);
    p.updatedAt = t;
    if (signed === 0n) {
      p.status = 'CLOSED';
      p.closedAt = t;
      openPosition.delete(key);
    }
    return { type: 'position', ...stamp(s, t), ...p };
  };

  for (let i = 0; i < opts.fills; i++) {
    const maker = 1 + Math.floor(rand() * opts.accounts);
    let taker = 1 + Math.floor(rand() * (opts.accounts - 1));
    if (taker >= maker) taker++;
    const makerSide: Side = rand() < 0.5 ? 'BUY' : 'SELL';
    const takerSide: Side = makerSide === 'BUY' ? 'SELL' : 'BUY';
    const price = f(u('50000') + BigInt(Math.floor(rand() * 2000)) * u('0.5'));
    const qty = f(BigInt(1 + Math.floor(rand() * 50)) * u('0.001'));
    const makerId = nextOrder++;
    step(
      {
        type: 'place_order',
        accountId: maker,
        symbol,
        side: makerSide,
        orderType: 'LIMIT',
        timeInForce: 'GTC',
        quantity: qty,
        price,
      },
      (s, t) => {
        const o = orderState(makerId, maker, makerSide, price, qty, t);
        orders.set(makerId, o);
        return [
          { type: 'order', ...stamp(s, t), ...o },
          { type: 'book', ...stamp(s, t), symbol, side: makerSide, price, quantity: qty },
        ];
      },
    );
    const takerId = nextOrder++;
    step(
      {
        type: 'place_order',
        accountId: taker,
        symbol,
        side: takerSide,
        orderType: 'LIMIT',
        timeInForce: 'IOC',
        quantity: qty,
        price,
      },
      (s, t) => {
        const m = orders.get(makerId)!;
        const o = orderState(takerId, taker, takerSide, price, qty, t);
        orders.set(takerId, o);
        const p = u(price);
        const q = u(qty);
        const notional = mulUnits(p, q, 'down');
        const makerFee = mulUnits(notional, u('0.0002'), 'up');
        const takerFee = mulUnits(notional, u('0.0005'), 'up');
        const tradeId = nextTrade++;
        const trade: Trade = {
          tradeId,
          symbol,
          price,
          quantity: qty,
          takerSide,
          makerOrderId: makerId,
          takerOrderId: takerId,
          makerAccountId: maker,
          takerAccountId: taker,
          makerFee: f(makerFee),
          takerFee: f(takerFee),
          makerFeeRate: '0.0002',
          takerFeeRate: '0.0005',
          makerRealizedPnl: '0',
          takerRealizedPnl: '0',
        };
        trades.push(trade);
        fill(m, q, p, t);
        fill(o, q, p, t);
        const ma = accounts.get(maker)!;
        const ta = accounts.get(taker)!;
        const out: EngineEvent[] = [{ type: 'trade', ...stamp(s, t), ...trade }];
        const mp = positionFill(maker, makerSide, q, p, makerFee, s, t);
        const tp = positionFill(taker, takerSide, q, p, takerFee, s, t);
        const posId = (e: EngineEvent) => (e as { positionId: number }).positionId;
        out.push(credit(ma, -makerFee, 'FEE', s, t, { orderId: makerId, tradeId, positionId: posId(mp) }));
        out.push(credit(ta, -takerFee, 'FEE', s, t, { orderId: takerId, tradeId, positionId: posId(tp) }));
        out.push({ type: 'order', ...stamp(s, t), ...m }, { type: 'order', ...stamp(s, t), ...o });
        out.push(mp, tp, accountEvent(ma, s, t), accountEvent(ta, s, t));
        out.push({ type: 'book', ...stamp(s, t), symbol, side: makerSide, price, quantity: '0' });
        return out;
      },
    );
  }
  step({ type: 'checkpoint' }, (s, t) => [{ type: 'state_hash', ...stamp(s, t), hash: `h${s}` }]);
  return { steps, accounts, orders, positions, trades, ledger };
}

/** Groups steps into batches of `size` commands (the batcher's job in production; tests need it raw). */
export function toBatches(steps: readonly Step[], size: number): Batch[] {
  const batches: Batch[] = [];
  for (let i = 0; i < steps.length; i += size) {
    const chunk = steps.slice(i, i + size);
    batches.push({
      fromSeq: chunk[0]!.command.seq,
      toSeq: chunk[chunk.length - 1]!.command.seq,
      commands: chunk.map((s) => s.command),
      events: chunk.flatMap((s) => s.events),
    });
  }
  return batches;
}
