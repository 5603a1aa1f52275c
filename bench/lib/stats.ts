/**
 * Summaries of repeated measurements. A benchmark reports the median of its repeats (robust to one noisy
 * run) together with the spread, so a reader can tell a 5% difference from noise.
 */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation); with few repeats they sit close to min/max. */
  p25: number;
  p75: number;
  n: number;
  samples: number[];
}

/** The q-quantile (0..1) of an ascending array, interpolating linearly between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    n: sorted.length,
    samples: [...samples],
  };
}

/** Half the min-max range relative to the median, in percent: the "±" printed next to a median. */
export function spreadPct(s: Spread): number {
  return s.median === 0 ? 0 : ((s.max - s.min) / 2 / s.median) * 100;
}

/** Rounds for reports: integers above 100, three significant digits below. */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  if (Math.abs(n) >= 100) return Math.round(n);
  return Number(n.toPrecision(3));
}

/** A spread with rounded numbers and without the raw samples' noise digits, for JSON reports. */
export function roundSpread(s: Spread): Spread {
  return {
    median: round(s.median),
    min: round(s.min),
    max: round(s.max),
    p25: round(s.p25),
    p75: round(s.p75),
    n: s.n,
    samples: s.samples.map(round),
  };
}
