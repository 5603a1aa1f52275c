/**
 * The seeded mixed flow every matching benchmark replays: one book; by default 60% limit orders priced
 * uniformly within 50 ticks either side of a fixed mid (so some cross and trade, most rest), 30% cancels
 * of uniformly chosen live orders, 10% market orders.
 *
 * The flow is generated once, before any timing, against a reference book (lib/refbook.ts) so that
 * - cancels only ever target orders that are live at that point of the flow;
 * - no order ever trades against an order of its own account (the taker's account is drawn among the
 *   accounts its fills would not touch), so books with different self-trade rules match identically;
 * - the expected final book is known, and a harness can check a book under test against it.
 *
 * The same flow is then rendered as engine commands (decimal strings, engine/commands.ts) and as calls on
 * the peer (`nodejs-order-book`: numbers), both before timing. Same seed, same flow, on any machine: the
 * generator uses its own PRNG. A shorter flow with the same seed is a prefix of a longer one.
 */
import type { LimitOrderOptions, MarketOrderOptions, Side as PeerSide } from 'nodejs-order-book';
import type { Command, CreateInstrument, PlaceOrder } from '../engine/commands.js';
import type { Flags } from './lib/args.js';
import { Prng } from './lib/prng.js';
import { BUY, type Depth, RefBook } from './lib/refbook.js';

export const OP_LIMIT = 0;
export const OP_CANCEL = 1;
export const OP_MARKET = 2;

export type Placement = 'passive' | 'uniform';

export interface FlowParams {
  ops: number;
  seed: number;
  limitPct: number;
  cancelPct: number;
  marketPct: number;
  /** How far from the mid limit prices go, in ticks (see `placement`). */
  spreadTicks: number;
  /**
   * 'passive': a limit order sits on its own side, `0..spreadTicks` ticks away from the mid (buys at or below,
   * sells at or above; only orders at the mid itself can cross), so the book grows deep as on a real venue.
   * 'uniform': price uniform in mid ± spreadTicks for either side, so about half the limit orders cross and
   * the book stays shallow.
   */
  placement: Placement;
  /** Orders are spread over this many accounts (indices 0..accounts-1). */
  accounts: number;
  /** Limit quantities are uniform in 1..maxLimitLots, market quantities in 1..maxMarketLots. */
  maxLimitLots: number;
  maxMarketLots: number;
}

export const DEFAULT_FLOW: FlowParams = {
  ops: 1_000_000,
  seed: 42,
  limitPct: 60,
  cancelPct: 30,
  marketPct: 10,
  spreadTicks: 50,
  placement: 'passive',
  accounts: 1_000,
  maxLimitLots: 10,
  maxMarketLots: 20,
};

/** The benchmark instrument: prices in cents around 100.00, whole-unit lots. */
export const BENCH_SYMBOL = 'BENCH-PERP';
export const TICK_DECIMALS = 2;
export const MID_TICK = 10_000; // 100.00
export const BENCH_INSTRUMENT: CreateInstrument = {
  type: 'create_instrument',
  symbol: BENCH_SYMBOL,
  kind: 'PERPETUAL',
  baseCurrency: 'BENCH',
  quoteCurrency: 'USD',
  tickSize: '0.01',
  // Whole lots keep the peer's binary-floating-point sizes exact, so both books see the same quantities.
  lotSize: '1',
  minQuantity: '1',
  maxQuantity: '1000000',
  maxLeverage: '100',
  makerFeeRate: '0.0002',
  takerFeeRate: '0.0005',
  fundingIntervalSeconds: 28_800,
};

export interface FlowStats {
  limits: number;
  cancels: number;
  markets: number;
  /** Cancels drawn while the book was empty, emitted as limit orders instead (counted in `limits`). */
  cancelFallbacks: number;
  /** Maker orders filled (a taker filling 3 makers counts 3). */
  fills: number;
  filledLots: number;
  /** Takers whose account could not avoid their makers' accounts (only with very few accounts). */
  selfTradeRisks: number;
  liveAtEnd: number;
  maxLive: number;
}

/**
 * The flow, column-wise (a few typed arrays instead of 1M objects). `ref` is the op's order id for limit and
 * market orders (1, 2, 3, ... in placement order: the id the engine is expected to assign) and the target
 * order's id for a cancel. `account` is an account index; for a cancel, the target's owner.
 */
export interface Flow {
  params: FlowParams;
  length: number;
  kind: Uint8Array;
  side: Uint8Array;
  priceTick: Int32Array;
  lots: Int32Array;
  ref: Int32Array;
  account: Int32Array;
  stats: FlowStats;
  /** The reference book's depth after the last op. */
  finalDepth: Depth;
  /** The reference book's live order ids (remaining lots) after the last op, for cross-checks. */
  liveAtEnd: number;
}

export function generateFlow(input: Partial<FlowParams> = {}): Flow {
  const p = { ...DEFAULT_FLOW, ...input };
  validate(p);
  const n = p.ops;
  const rng = new Prng(p.seed);
  const book = new RefBook(MID_TICK - p.spreadTicks, MID_TICK + p.spreadTicks, n);
  const flow: Flow = {
    params: p,
    length: n,
    kind: new Uint8Array(n),
    side: new Uint8Array(n),
    priceTick: new Int32Array(n),
    lots: new Int32Array(n),
    ref: new Int32Array(n),
    account: new Int32Array(n),
    stats: {
      limits: 0,
      cancels: 0,
      markets: 0,
      cancelFallbacks: 0,
      fills: 0,
      filledLots: 0,
      selfTradeRisks: 0,
      liveAtEnd: 0,
      maxLive: 0,
    },
    finalDepth: { bids: [], asks: [] },
    liveAtEnd: 0,
  };
  const st = flow.stats;
  const makers = new Set<number>();
  const pick = (k: number) => rng.int(k);
  let nextId = 1;

  for (let i = 0; i < n; i++) {
    const r = rng.float() * 100;
    let kind = r < p.limitPct ? OP_LIMIT : r < p.limitPct + p.cancelPct ? OP_CANCEL : OP_MARKET;
    if (kind === OP_CANCEL && book.liveOrders === 0) {
      kind = OP_LIMIT;
      st.cancelFallbacks++;
    }
    flow.kind[i] = kind;
    if (kind === OP_CANCEL) {
      const id = book.randomLive(pick);
      flow.ref[i] = id;
      flow.account[i] = book.ownerOf(id);
      flow.side[i] = 0;
      book.cancel(id);
      st.cancels++;
      continue;
    }
    const side = rng.int(2);
    const limit = kind === OP_LIMIT ? limitTick(rng, side, p) : null;
    const lots = 1 + rng.int(kind === OP_LIMIT ? p.maxLimitLots : p.maxMarketLots);
    makers.clear();
    book.peekMakers(side, limit, lots, makers);
    const account = chooseAccount(rng, p.accounts, makers);
    if (makers.has(account)) st.selfTradeRisks++;
    const id = nextId++;
    const { fills, filled } = book.take(side, limit, lots);
    st.fills += fills;
    st.filledLots += filled;
    if (limit !== null && filled < lots) book.rest(id, side, limit, lots - filled, account);
    if (kind === OP_LIMIT) st.limits++;
    else st.markets++;
    flow.side[i] = side;
    flow.priceTick[i] = limit ?? 0;
    flow.lots[i] = lots;
    flow.ref[i] = id;
    flow.account[i] = account;
    if (book.liveOrders > st.maxLive) st.maxLive = book.liveOrders;
  }
  st.liveAtEnd = book.liveOrders;
  flow.liveAtEnd = book.liveOrders;
  flow.finalDepth = book.depth();
  return flow;
}

function limitTick(rng: Prng, side: number, p: FlowParams): number {
  if (p.placement === 'uniform') return MID_TICK - p.spreadTicks + rng.int(2 * p.spreadTicks + 1);
  const offset = rng.int(p.spreadTicks + 1);
  return side === BUY ? MID_TICK - offset : MID_TICK + offset;
}

/** An account not among `avoid`, drawn uniformly (bounded retries: with few accounts it may not exist). */
function chooseAccount(rng: Prng, accounts: number, avoid: Set<number>): number {
  let a = rng.int(accounts);
  for (let tries = 0; tries < 64 && avoid.has(a); tries++) a = rng.int(accounts);
  return a;
}

function validate(p: FlowParams): void {
  const sum = p.limitPct + p.cancelPct + p.marketPct;
  if (Math.abs(sum - 100) > 1e-9)
    throw new Error(`--limit-pct + --cancel-pct + --market-pct must be 100, got ${sum}`);
  if (p.placement !== 'passive' && p.placement !== 'uniform') {
    throw new Error(`--placement must be passive or uniform, got ${String(p.placement)}`);
  }
  for (const [k, v] of Object.entries(p)) {
    if (k === 'placement') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new Error(`flow parameter ${k} must be a non-negative number, got ${v}`);
  }
  if (!Number.isInteger(p.ops) || p.ops < 1)
    throw new Error(`--ops must be a positive whole number, got ${p.ops}`);
  if (p.accounts < 1 || p.maxLimitLots < 1 || p.maxMarketLots < 1)
    throw new Error('accounts and lot caps must be >= 1');
  if (!Number.isInteger(p.spreadTicks) || p.spreadTicks < 1 || p.spreadTicks >= MID_TICK) {
    throw new Error(`--spread-ticks must be a whole number in 1..${MID_TICK - 1}`);
  }
}

/** Reads the flow's flags; the caller may override defaults (e.g. the risk part's 10,000 accounts). */
export function flowParamsFromFlags(flags: Flags, defaults: Partial<FlowParams> = {}): FlowParams {
  const d = { ...DEFAULT_FLOW, ...defaults };
  return {
    ops: flags.int('ops', d.ops, 1),
    seed: flags.int('seed', d.seed),
    limitPct: flags.num('limit-pct', d.limitPct),
    cancelPct: flags.num('cancel-pct', d.cancelPct),
    marketPct: flags.num('market-pct', d.marketPct),
    spreadTicks: flags.int('spread-ticks', d.spreadTicks, 1),
    placement: flags.str('placement', d.placement) as Placement,
    accounts: flags.int('accounts', d.accounts, 1),
    maxLimitLots: flags.int('max-limit-lots', d.maxLimitLots, 1),
    maxMarketLots: flags.int('max-market-lots', d.maxMarketLots, 1),
  };
}

/** One sentence for reports. */
export function describeFlow(p: FlowParams): string {
  return (
    `${p.ops.toLocaleString('en-US')} ops on one book (${BENCH_SYMBOL}, tick 0.01, mid 100.00), seed ${p.seed}: ` +
    `${p.limitPct}% GTC limit orders of 1-${p.maxLimitLots} lots within ${p.spreadTicks} ticks of the mid ` +
    `(${p.placement === 'passive' ? 'on their own side' : 'either side'}), ` +
    `${p.cancelPct}% cancels of random live orders, ${p.marketPct}% market orders of 1-${p.maxMarketLots} lots, ` +
    `${p.accounts.toLocaleString('en-US')} accounts, no self-trades`
  );
}

// ---- rendering for the two books ---------------------------------------------------------------------

/** Shortest exact decimal for a tick count: 10000 -> "100", 10050 -> "100.5", 10037 -> "100.37". */
export function tickToDecimal(tick: number): string {
  const scale = 10 ** TICK_DECIMALS;
  const int = Math.floor(tick / scale);
  const frac = tick - int * scale;
  if (frac === 0) return String(int);
  return `${int}.${String(frac).padStart(TICK_DECIMALS, '0').replace(/0+$/, '')}`;
}

export interface EngineRenderOptions {
  /** The engine's account id for each account index. */
  accountIds: readonly number[];
  /** seq of the flow's first command (the setup commands come before). */
  firstSeq: number;
  /** ts of the first command, microseconds; each command adds one. */
  firstTs?: number;
  /** First n ops only. */
  limit?: number;
}

/** 2026-01-01T00:00:00Z in microseconds: a fixed clock keeps commands identical run to run. */
export const BENCH_EPOCH_MICROS = 1_767_225_600_000_000;

/**
 * Engine commands for the flow. Cancels name the target by the id the engine is expected to assign (the
 * placement counter); a harness confirms that with a dry run and re-targets them if the engine numbers
 * orders otherwise. Decimal strings are shared per distinct value (a cache), as they are immutable.
 */
export function toEngineCommands(flow: Flow, opts: EngineRenderOptions): Command[] {
  const n = Math.min(flow.length, opts.limit ?? flow.length);
  const ts0 = opts.firstTs ?? BENCH_EPOCH_MICROS;
  const prices = new Map<number, string>();
  const qtys = new Map<number, string>();
  const priceOf = (t: number) => cached(prices, t, tickToDecimal);
  const qtyOf = (l: number) => cached(qtys, l, String);
  const out: Command[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const seq = opts.firstSeq + i;
    const ts = ts0 + i;
    const accountId = opts.accountIds[flow.account[i]];
    if (accountId === undefined) throw new Error(`no engine account for account index ${flow.account[i]}`);
    const kind = flow.kind[i];
    if (kind === OP_CANCEL) {
      out[i] = { type: 'cancel_order', accountId, orderId: flow.ref[i], seq, ts };
      continue;
    }
    const base: PlaceOrder & { seq: number; ts: number } = {
      type: 'place_order',
      accountId,
      symbol: BENCH_SYMBOL,
      side: flow.side[i] === BUY ? 'BUY' : 'SELL',
      orderType: kind === OP_LIMIT ? 'LIMIT' : 'MARKET',
      timeInForce: kind === OP_LIMIT ? 'GTC' : 'IOC',
      quantity: qtyOf(flow.lots[i]),
      seq,
      ts,
    };
    if (kind === OP_LIMIT) base.price = priceOf(flow.priceTick[i]);
    out[i] = base;
  }
  return out;
}

/** A call on the peer: `ob.limit(opts)`, `ob.market(opts)` or `ob.cancel(id)`. */
export type PeerOp =
  | { kind: typeof OP_LIMIT; opts: LimitOrderOptions }
  | { kind: typeof OP_MARKET; opts: MarketOrderOptions }
  | { kind: typeof OP_CANCEL; id: string };

// The peer's Side is a string enum ('buy' / 'sell'); its values are spelled here so that this module does
// not load the peer library at run time (the engine-only parts never need it).
const PEER_BUY = 'buy' as unknown as PeerSide;
const PEER_SELL = 'sell' as unknown as PeerSide;

/**
 * The same flow as calls on `nodejs-order-book`, whose prices and sizes are JavaScript numbers: the
 * decimal string is converted with Number(), as a user of that library would. Ids are the same order ids.
 */
export function toPeerOps(flow: Flow, limit = flow.length): PeerOp[] {
  const n = Math.min(flow.length, limit);
  const out: PeerOp[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = flow.kind[i];
    const side = flow.side[i] === BUY ? PEER_BUY : PEER_SELL;
    if (kind === OP_CANCEL) out[i] = { kind: OP_CANCEL, id: String(flow.ref[i]) };
    else if (kind === OP_MARKET) out[i] = { kind: OP_MARKET, opts: { side, size: flow.lots[i] } };
    else {
      out[i] = {
        kind: OP_LIMIT,
        opts: {
          id: String(flow.ref[i]),
          side,
          size: flow.lots[i],
          price: Number(tickToDecimal(flow.priceTick[i])),
        },
      };
    }
  }
  return out;
}

function cached<K>(map: Map<K, string>, key: K, make: (k: K) => string): string {
  let v = map.get(key);
  if (v === undefined) {
    v = make(key);
    map.set(key, v);
  }
  return v;
}
