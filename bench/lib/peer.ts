/**
 * The peer: `nodejs-order-book` 10.1.1, driven through its documented API (`limit`, `market`, `cancel`) with
 * the flow's operations prebuilt as the options objects those calls take, so the timed loop only calls.
 */
import { OrderBook } from 'nodejs-order-book';
import { OP_CANCEL, OP_LIMIT, type PeerOp, TICK_DECIMALS } from '../flow.js';
import type { LatencyRecorder } from './latency.js';
import type { Progress } from './progress.js';
import type { Depth } from './refbook.js';

export const PEER_NAME = 'nodejs-order-book@10.1.1';

export function newPeerBook(): OrderBook {
  return new OrderBook();
}

export interface TimedRun {
  elapsedNs: number;
  /** [op index, ns since start] at chunk boundaries: throughput over time. */
  marks: Array<[number, number]>;
}

/** Applies ops[from, to) in chunks, timing the whole span contiguously. */
export function runPeer(
  ob: OrderBook,
  ops: readonly PeerOp[],
  to: number,
  chunk: number,
  progress?: Progress,
): TimedRun {
  const marks: Array<[number, number]> = [];
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < to; c += chunk) {
    const end = Math.min(to, c + chunk);
    for (let i = c; i < end; i++) {
      const op = ops[i];
      if (op.kind === OP_LIMIT) ob.limit(op.opts);
      else if (op.kind === OP_CANCEL) ob.cancel(op.id);
      else ob.market(op.opts);
    }
    marks.push([end, Number(process.hrtime.bigint() - t0)]);
    progress?.update(end);
  }
  return { elapsedNs: Number(process.hrtime.bigint() - t0), marks };
}

/** Times every op on its own; recorders are indexed by op kind, plus one for all ops. */
export function runPeerLatency(
  ob: OrderBook,
  ops: readonly PeerOp[],
  to: number,
  byKind: readonly LatencyRecorder[],
  all: LatencyRecorder,
): void {
  for (let i = 0; i < to; i++) {
    const op = ops[i];
    const t0 = process.hrtime.bigint();
    if (op.kind === OP_LIMIT) ob.limit(op.opts);
    else if (op.kind === OP_CANCEL) ob.cancel(op.id);
    else ob.market(op.opts);
    const ns = Number(process.hrtime.bigint() - t0);
    byKind[op.kind].record(ns);
    all.record(ns);
  }
}

/** The peer's book as ticks and lots, best first (its prices are numbers: round back to ticks). */
export function peerDepth(ob: OrderBook): Depth {
  const [asks, bids] = ob.depth();
  const scale = 10 ** TICK_DECIMALS;
  const conv = (levels: Array<[number, number]>) =>
    levels.map(([p, q]) => [Math.round(p * scale), q] as [number, number]);
  return {
    bids: conv(bids).sort((a, b) => b[0] - a[0]),
    asks: conv(asks).sort((a, b) => a[0] - b[0]),
  };
}
