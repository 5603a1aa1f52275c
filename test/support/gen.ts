/**
 * A seeded generator of realistic command streams, shared by the recovery, persistence and engine tests: every
 * command type the engine takes, aimed at live orders and existing accounts (read from the engine it drives),
 * with enough traffic near the touch to trade, trigger stops, amend, expire DAY orders, liquidate and fund.
 */
import type { CommandBody } from '../../engine/commands.js';
import type { Engine } from '../../engine/engine.js';

export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export const PERP = 'BTC-PERP';
export const SPOT = 'ETH-USD';

/** Setup: two instruments, traders with margin accounts, one cash account, an insurance fund, deposits. */
export function setupCommands(traders = 6): CommandBody[] {
  const cmds: CommandBody[] = [
    {
      type: 'create_instrument',
      symbol: PERP,
      kind: 'PERPETUAL',
      baseCurrency: 'BTC',
      quoteCurrency: 'USD',
      tickSize: '0.5',
      lotSize: '0.001',
      minQuantity: '0.001',
      maxQuantity: '1000',
      maxLeverage: '50',
      makerFeeRate: '0.0002',
      takerFeeRate: '0.0005',
      fundingIntervalSeconds: 28800,
    },
    {
      type: 'create_instrument',
      symbol: SPOT,
      kind: 'SPOT',
      baseCurrency: 'ETH',
      quoteCurrency: 'USD',
      tickSize: '0.01',
      lotSize: '0.01',
      minQuantity: '0.01',
      maxQuantity: '10000',
      maxLeverage: '1',
      makerFeeRate: '-0.0001',
      takerFeeRate: '0.0007',
      fundingIntervalSeconds: 0,
    },
  ];
  for (let i = 1; i <= traders + 2; i++) {
    cmds.push({ type: 'create_user', name: `user-${i}`, email: i % 2 === 0 ? `u${i}@example.com` : null });
  }
  for (let i = 1; i <= traders; i++) {
    cmds.push({
      type: 'open_account',
      userId: i,
      currency: 'USD',
      maxLeverage: String(5 + 5 * (i % 4)),
      marginEnabled: true,
      autoLiquidation: true,
    });
  }
  // a cash account and the insurance fund
  cmds.push({
    type: 'open_account',
    userId: traders + 1,
    currency: 'USD',
    maxLeverage: '1',
    marginEnabled: false,
    autoLiquidation: false,
  });
  cmds.push({
    type: 'open_account',
    userId: traders + 2,
    currency: 'USD',
    maxLeverage: '1',
    marginEnabled: false,
    autoLiquidation: false,
    insuranceFund: true,
  });
  for (let a = 1; a <= traders + 2; a++) {
    cmds.push({
      type: 'deposit',
      accountId: a,
      amount: a === traders + 2 ? '10000000' : `${20000 + a * 7919}.5`,
    });
  }
  cmds.push({ type: 'mark_price', symbol: PERP, price: '50000' });
  return cmds;
}

const fmt = (units: number, decimals: number): string => {
  const scale = 10 ** decimals;
  const int = Math.floor(units / scale);
  const frac = units - int * scale;
  if (frac === 0) return String(int);
  return `${int}.${String(frac).padStart(decimals, '0').replace(/0+$/, '')}`;
};

/**
 * The trading flow. Reads live orders and accounts from `engine` (the one being driven), so cancels and
 * amends hit real orders; deterministic for a given seed and engine history.
 */
export class FlowGenerator {
  private readonly rng: Prng;
  private perpMid = 100_000; // ticks of 0.5: 50000
  private spotMid = 300_000; // ticks of 0.01: 3000
  private coid = 0;

  constructor(
    seed: number,
    private readonly engine: Engine,
    private readonly accounts = 7,
  ) {
    this.rng = new Prng(seed);
  }

  private liveIds(): number[] {
    return [...this.engine.orders.keys()];
  }

  next(): CommandBody {
    const r = this.rng;
    const roll = r.int(0, 999);
    const accountId = r.int(1, this.accounts);
    if (roll < 600) return this.place(accountId);
    const live = this.liveIds();
    if (roll < 700 && live.length > 0) {
      const id = r.pick(live);
      const o = this.engine.orders.get(id)!;
      if (r.chance(0.3) && o.clientOrderId !== null) {
        return { type: 'cancel_order', accountId: o.accountId, clientOrderId: o.clientOrderId };
      }
      // now and then another account's order or a dead id: the refusal path
      return { type: 'cancel_order', accountId: r.chance(0.9) ? o.accountId : accountId, orderId: id };
    }
    if (roll < 800 && live.length > 0) {
      const o = this.engine.orders.get(r.pick(live))!;
      const isPerp = o.instrument.symbol === PERP;
      const body: CommandBody = { type: 'amend_order', accountId: o.accountId, orderId: o.id };
      if (o.priceTicks > 0 && r.chance(0.6)) {
        const t = Math.max(1, o.priceTicks + r.int(-6, 6));
        body.price = isPerp ? fmt(t * 5, 1) : fmt(t, 2);
      }
      if (!body.price || r.chance(0.5)) {
        const lots = Math.max(1, o.quantityLots + r.int(-3, 3));
        body.quantity = isPerp ? fmt(lots, 3) : fmt(lots, 2);
      }
      return body;
    }
    if (roll < 802) return { type: 'cancel_all', accountId, ...(r.chance(0.5) ? { symbol: PERP } : {}) };
    if (roll < 860) {
      this.perpMid += r.int(-40, 40);
      return { type: 'mark_price', symbol: PERP, price: fmt(this.perpMid * 5, 1) };
    }
    if (roll < 872)
      return { type: 'funding', symbol: r.chance(0.9) ? PERP : SPOT, rate: fmt(r.int(0, 30), 5) };
    if (roll < 890) {
      const sl = r.chance(0.5) ? fmt((this.perpMid - r.int(10, 400)) * 5, 1) : null;
      const tp = r.chance(0.5) ? fmt((this.perpMid + r.int(10, 400)) * 5, 1) : undefined;
      return { type: 'set_position_tpsl', accountId, symbol: PERP, stopLoss: sl, takeProfit: tp };
    }
    if (roll < 895) return { type: 'session_end' };
    if (roll < 915) return { type: 'deposit', accountId, amount: `${r.int(1, 5000)}.25` };
    if (roll < 925) return { type: 'withdraw', accountId, amount: `${r.int(1, 3000)}` };
    if (roll < 928) {
      return {
        type: 'set_account_status',
        accountId,
        status: r.chance(0.85) ? 'ACTIVE' : 'SUSPENDED',
      };
    }
    if (roll < 940) return { type: 'set_leverage_limit', accountId, maxLeverage: String(r.int(1, 30)) };
    if (roll < 950) return { type: 'checkpoint' };
    return this.place(accountId);
  }

  private place(accountId: number): CommandBody {
    const r = this.rng;
    const perp = r.chance(0.8);
    const side = r.chance(0.5) ? 'BUY' : 'SELL';
    const kindRoll = r.int(0, 99);
    const orderType =
      kindRoll < 70 ? 'LIMIT' : kindRoll < 82 ? 'MARKET' : kindRoll < 91 ? 'STOP' : 'STOP_LIMIT';
    const mid = perp ? this.perpMid : this.spotMid;
    const offset = r.int(-6, 60);
    // buys below the mid and sells above, mostly: books grow; the negative offsets cross and trade
    const ticks = Math.max(1, side === 'BUY' ? mid - offset : mid + offset);
    const price = perp ? fmt(ticks * 5, 1) : fmt(ticks, 2);
    const lots = r.int(1, perp ? 120 : 300);
    const tifRoll = r.int(0, 9);
    const body: CommandBody = {
      type: 'place_order',
      accountId,
      symbol: perp ? PERP : SPOT,
      side,
      orderType,
      timeInForce:
        orderType === 'MARKET'
          ? 'IOC'
          : tifRoll < 6
            ? 'GTC'
            : tifRoll < 7
              ? 'IOC'
              : tifRoll < 8
                ? 'FOK'
                : 'DAY',
      quantity: perp ? fmt(lots, 3) : fmt(lots, 2),
    };
    if (orderType === 'LIMIT' || orderType === 'STOP_LIMIT') body.price = price;
    if (orderType === 'STOP' || orderType === 'STOP_LIMIT') {
      const st = Math.max(1, side === 'BUY' ? mid + r.int(-3, 12) : mid - r.int(-3, 12));
      body.stopPrice = perp ? fmt(st * 5, 1) : fmt(st, 2);
    }
    if (orderType === 'LIMIT' && r.chance(0.1)) body.postOnly = true;
    if (r.chance(0.08)) body.reduceOnly = true;
    if (r.chance(0.4)) body.clientOrderId = `c${r.chance(0.05) ? this.coid : ++this.coid}`;
    if (perp && r.chance(0.5)) body.leverage = String(r.int(1, 25));
    return body;
  }
}
