/**
 * Driving this project's engine for benchmarks: a fresh engine with the benchmark instrument (and, with the
 * risk core on, funded accounts), the untimed dry run that resolves order ids and checks the outcome, and
 * the timed and per-op-latency loops. Every measured run starts from an identical fresh engine.
 */

import { EventLog } from '../../engine/event-log.js';
import type { EngineEvent } from '../../engine/events.js';
import { type Command, Engine } from '../../engine/index.js';
import {
  BENCH_EPOCH_MICROS,
  BENCH_INSTRUMENT,
  BENCH_SYMBOL,
  type Flow,
  OP_CANCEL,
  TICK_DECIMALS,
} from '../flow.js';
import { diffDepth } from './depth.js';
import type { LatencyRecorder } from './latency.js';
import type { Depth } from './refbook.js';

export interface SessionOptions {
  risk: boolean;
  /** Accounts to open and fund (risk on); with risk off, account ids are plain labels 1..n. */
  accounts: number;
  /** Deposit per account, decimal string. */
  deposit: string;
  /** Account max leverage, whole number string. */
  leverage: string;
}

export interface Session {
  engine: Engine;
  /** Engine account id per flow account index. */
  accountIds: number[];
  /** seq for the flow's first command. */
  firstSeq: number;
  /** The reused event array of the untimed runs that read events (cleared before each command). */
  out: EngineEvent[];
  /** Where the timed runs' events go: records, as the server's sequencer writes them (see `step`). */
  log: EventLog;
}

/** Events a batch's log holds before the output batcher seals it (its default `maxEvents`). */
const BATCH_EVENTS = 5000;

/**
 * Applies one command as the server does: its events appended as records to the open batch's log
 * (Engine.applyInto), which the batcher seals, and later reuses, once it holds a batch's worth. Here the
 * log is emptied at that point instead; reading the records is the consumers' work (the e2e bench).
 */
export function step(s: Session, cmd: Command): void {
  const log = s.log;
  if (log.count >= BATCH_EVENTS) log.clear();
  s.engine.applyInto(cmd, log);
}

/** Setup commands are stamped just before the flow's epoch, so flow commands keep fixed timestamps. */
const SETUP_TS = BENCH_EPOCH_MICROS - 1_000_000;

export function openSession(opts: SessionOptions): Session {
  const engine = new Engine({ risk: opts.risk });
  const out: EngineEvent[] = [];
  const log = new EventLog(1 << 16);
  let seq = 0;
  const apply = (body: Record<string, unknown>): EngineEvent[] => {
    out.length = 0;
    seq++;
    engine.apply({ ...body, seq, ts: SETUP_TS + seq } as unknown as Command, out);
    return out;
  };
  const created = apply({ ...BENCH_INSTRUMENT });
  if (!created.some((e) => e.type === 'instrument_created')) {
    throw new Error(`engine refused the benchmark instrument: ${JSON.stringify(created)}`);
  }
  const accountIds: number[] = [];
  if (opts.risk) {
    // A mark price at the flow's mid, as a live venue always has: positions then carry unrealized PnL, and
    // every equity, available-margin and liquidation-price computation does its full work.
    apply({ type: 'mark_price', symbol: BENCH_SYMBOL, price: '100' });
  }
  if (!opts.risk) {
    for (let i = 0; i < opts.accounts; i++) accountIds.push(i + 1);
    return { engine, accountIds, firstSeq: seq + 1, out, log };
  }
  for (let i = 0; i < opts.accounts; i++) {
    const user = apply({ type: 'create_user', name: `bench-${i + 1}`, email: null }).find(
      (e) => e.type === 'user_created',
    );
    if (user?.type !== 'user_created') throw new Error(`create_user refused: ${JSON.stringify(out)}`);
    const opened = apply({
      type: 'open_account',
      userId: user.userId,
      currency: BENCH_INSTRUMENT.quoteCurrency,
      maxLeverage: opts.leverage,
      marginEnabled: true,
      autoLiquidation: true,
    }).find((e) => e.type === 'account');
    if (opened?.type !== 'account') {
      throw new Error(`open_account refused (is the risk core in?): ${JSON.stringify(out)}`);
    }
    const deposited = apply({ type: 'deposit', accountId: opened.accountId, amount: opts.deposit });
    if (deposited.some((e) => e.type === 'rejected'))
      throw new Error(`deposit refused: ${JSON.stringify(out)}`);
    accountIds.push(opened.accountId);
  }
  return { engine, accountIds, firstSeq: seq + 1, out, log };
}

export interface DryRunReport {
  /** Cancels whose target id had to be re-pointed because the engine numbered orders otherwise. */
  retargeted: number;
  trades: number;
  events: number;
  /** Rejections by reason (place_order refusals and refused commands). */
  rejects: Record<string, number>;
  /** null when the engine's final book equals the flow's reference book. */
  depthMismatch: string | null;
  restingOrders: number;
}

/**
 * Applies the flow once, untimed: it learns the id the engine gave each order and points cancels at it
 * (commands are edited in place), counts trades and rejections, and compares the final book with the
 * reference. Also the JIT's first warm-up.
 */
export function dryRun(s: Session, cmds: Command[], flow: Flow): DryRunReport {
  const n = cmds.length;
  const idOf = new Int32Array(n + 2); // local order id -> engine order id
  const seen = new Set<number>();
  let localId = 0;
  const report: DryRunReport = {
    retargeted: 0,
    trades: 0,
    events: 0,
    rejects: {},
    depthMismatch: null,
    restingOrders: 0,
  };
  const { engine, out } = s;
  for (let i = 0; i < n; i++) {
    const cmd = cmds[i];
    if (flow.kind[i] === OP_CANCEL && cmd.type === 'cancel_order') {
      const target = idOf[flow.ref[i]];
      if (target !== cmd.orderId) {
        (cmd as { orderId: number }).orderId = target;
        report.retargeted++;
      }
    }
    out.length = 0;
    engine.apply(cmd, out);
    report.events += out.length;
    if (cmd.type === 'place_order') localId++;
    for (const e of out) {
      if (e.type === 'trade') report.trades++;
      else if (e.type === 'rejected') bump(report.rejects, e.reason);
      else if (e.type === 'order') {
        if (e.status === 'REJECTED') bump(report.rejects, e.rejectionReason ?? 'UNKNOWN');
        if (!seen.has(e.orderId)) {
          seen.add(e.orderId);
          idOf[localId] = e.orderId;
        }
      }
    }
  }
  const depth = engineDepth(engine);
  report.restingOrders = engineRestingOrders(engine);
  report.depthMismatch = diffDepth(flow.finalDepth, depth);
  return report;
}

/** Applies cmds[0, n) in chunks, timed contiguously, with a mark at each chunk end and at `prefix`. */
export function runEngine(
  s: Session,
  cmds: readonly Command[],
  chunk: number,
  prefix: number,
): {
  elapsedNs: number;
  prefixNs: number;
  marks: Array<[number, number]>;
} {
  const n = cmds.length;
  const marks: Array<[number, number]> = [];
  let prefixNs = 0;
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < n; ) {
    // Chunk boundaries include the peer's prefix, so the engine's rate over exactly that prefix is known.
    const end = c < prefix ? Math.min(prefix, c + chunk) : Math.min(n, c + chunk);
    for (let i = c; i < end; i++) step(s, cmds[i]);
    const ns = Number(process.hrtime.bigint() - t0);
    marks.push([end, ns]);
    if (end === prefix) prefixNs = ns;
    c = end;
  }
  return { elapsedNs: Number(process.hrtime.bigint() - t0), prefixNs, marks };
}

/** Times every command on its own; recorders indexed by flow op kind, plus one for all. */
export function runEngineLatency(
  s: Session,
  cmds: readonly Command[],
  flow: Flow,
  byKind: readonly LatencyRecorder[],
  all: LatencyRecorder,
): void {
  for (let i = 0; i < cmds.length; i++) {
    const cmd = cmds[i];
    const t0 = process.hrtime.bigint();
    step(s, cmd);
    const ns = Number(process.hrtime.bigint() - t0);
    byKind[flow.kind[i]].record(ns);
    all.record(ns);
  }
}

export function engineDepth(engine: Engine): Depth {
  const snap = engine.book(BENCH_SYMBOL, Number.MAX_SAFE_INTEGER);
  const scale = 10 ** TICK_DECIMALS;
  const conv = (levels: Array<{ price: string; quantity: string }>) =>
    levels.map((l) => [Math.round(Number(l.price) * scale), Number(l.quantity)] as [number, number]);
  return { bids: conv(snap?.bids ?? []), asks: conv(snap?.asks ?? []) };
}

export function engineRestingOrders(engine: Engine): number {
  const snap = engine.book(BENCH_SYMBOL, Number.MAX_SAFE_INTEGER);
  let n = 0;
  for (const l of snap?.bids ?? []) n += l.orders;
  for (const l of snap?.asks ?? []) n += l.orders;
  return n;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
