/**
 * Per-operation latency in an HDR histogram (hdr-histogram-js): constant memory whatever the op count, 3
 * significant digits, so a 1M-op run keeps every sample's bucket rather than a reservoir.
 */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  meanNs: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  p9999Ns: number;
  maxNs: number;
}

/** Percentiles plotted by the latency-distribution chart (x axis of an HDR-style plot). */
const PLOT_PERCENTILES = [
  0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25, 99.5,
  99.75, 99.9, 99.95, 99.99, 99.995, 99.999,
];

export class LatencyRecorder {
  private readonly hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000_000, // one minute in ns: anything slower is a hang, not a latency
    numberOfSignificantValueDigits: 3,
  });

  record(ns: number): void {
    this.hist.recordValue(Math.max(ns, 1));
  }

  get count(): number {
    return this.hist.totalCount;
  }

  summary(): LatencySummary {
    const h = this.hist;
    return {
      count: h.totalCount,
      meanNs: Math.round(h.mean),
      p50Ns: h.getValueAtPercentile(50),
      p90Ns: h.getValueAtPercentile(90),
      p99Ns: h.getValueAtPercentile(99),
      p999Ns: h.getValueAtPercentile(99.9),
      p9999Ns: h.getValueAtPercentile(99.99),
      maxNs: h.maxValue,
    };
  }

  /** [percentile, ns] points for the latency-distribution plot. */
  distribution(): Array<[number, number]> {
    if (this.hist.totalCount === 0) return [];
    return PLOT_PERCENTILES.map((p) => [p, this.hist.getValueAtPercentile(p)] as [number, number]);
  }
}

/**
 * The cost of the timer itself (a pair of process.hrtime.bigint() calls), median of many: reported next to
 * per-op latencies, which include it once.
 */
export function timerOverheadNs(samples = 200_000): number {
  const h = new LatencyRecorder();
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    h.record(Number(t1 - t0));
  }
  return h.summary().p50Ns;
}
