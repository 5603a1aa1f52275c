/**
 * Shared by the flow harnesses (engine vs peer, risk on vs off): per-op-kind latency recorders and the
 * series the plots draw from timed runs.
 */
import { OP_CANCEL, OP_LIMIT, OP_MARKET } from '../flow.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';

export interface KindRecorders {
  /** Indexed by OP_LIMIT (0), OP_CANCEL (1), OP_MARKET (2). */
  byKind: LatencyRecorder[];
  all: LatencyRecorder;
}

export function kindRecorders(): KindRecorders {
  return {
    byKind: [new LatencyRecorder(), new LatencyRecorder(), new LatencyRecorder()],
    all: new LatencyRecorder(),
  };
}

export function latencySummaries(r: KindRecorders): Record<string, LatencySummary> {
  return {
    all: r.all.summary(),
    limit: r.byKind[OP_LIMIT].summary(),
    cancel: r.byKind[OP_CANCEL].summary(),
    market: r.byKind[OP_MARKET].summary(),
  };
}

/** A timed run: its rate and [ops done, ns since start] at each chunk boundary. */
export interface RunMarks {
  opsPerSec: number;
  marks: Array<[number, number]>;
}

/** The run whose throughput is the median of its repeats: its time series is the typical one. */
export function medianRun(runs: readonly RunMarks[]): RunMarks | undefined {
  const sorted = [...runs].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Rate per chunk, as [x, ops/s] with x = seconds since start ('time') or ops completed ('ops'). */
export function chunkRates(run: RunMarks | undefined, x: 'time' | 'ops'): Array<[number, number]> {
  if (!run) return [];
  let prevOps = 0;
  let prevNs = 0;
  return run.marks.map(([ops, ns]) => {
    const rate = (ops - prevOps) / ((ns - prevNs) / 1e9);
    prevOps = ops;
    prevNs = ns;
    return [x === 'time' ? ns / 1e9 : ops, rate] as [number, number];
  });
}

/** HDR distribution points converted from ns to µs for plots. */
export function micros(points: Array<[number, number]>): Array<[number, number]> {
  return points.map(([p, ns]) => [p, ns / 1000] as [number, number]);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)] + s[Math.ceil(m)]) / 2;
}

export function round1(n: number): number {
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : n;
}
