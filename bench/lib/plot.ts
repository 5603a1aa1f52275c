/**
 * The plot vocabulary parts use to hand series to the report writers. A part puts `plots: Plot[]` in the
 * record its `run()` returns; the dispatcher writes each one as `bench/results/<part>-<id>.svg` and links it
 * from the Markdown report. The `plots` key is kept out of the part's one-line JSON on stdout.
 *
 * Conventions (so the suite's charts look alike):
 * - latency distribution: `axis.x = 'percentile'`, x in percent (50, 99, 99.9), y in microseconds;
 * - throughput / lag over time: x in seconds since the start of the run;
 * - recovery time vs journal length: x = journal commands, y = seconds.
 */
export type AxisKind = 'linear' | 'log' | 'percentile';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface Plot {
  /** File-name-safe id, unique within the part: "latency", "throughput", "recovery". */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  axis?: { x?: AxisKind; y?: AxisKind };
  /** One line under the title: the workload the plot comes from. */
  note?: string;
}

export function isPlot(value: unknown): value is Plot {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Partial<Plot>;
  return typeof p.id === 'string' && typeof p.title === 'string' && Array.isArray(p.series);
}

// ---- the suite's standard charts, so every part draws them alike --------------------------------------

/** Latency distribution from `LatencyRecorder.distribution()` points ([percentile, ns]); drawn in µs. */
export function latencyPlot(
  id: string,
  title: string,
  series: Array<{ name: string; distribution: Array<[number, number]> }>,
  note?: string,
): Plot {
  return {
    id,
    title,
    note,
    xLabel: 'percentile',
    yLabel: 'latency (µs)',
    axis: { x: 'percentile', y: 'log' },
    series: series.map((s) => ({ name: s.name, points: s.distribution.map(([p, ns]) => [p, ns / 1000]) })),
  };
}

/** Throughput, lag or any rate against seconds since the start of the run: points are [seconds, value]. */
export function overTimePlot(
  id: string,
  title: string,
  yLabel: string,
  series: Series[],
  note?: string,
): Plot {
  return { id, title, note, xLabel: 'seconds since start', yLabel, series };
}

/** Recovery time against journal length: points are [journal commands, seconds]. */
export function recoveryPlot(series: Series[], note?: string): Plot {
  return {
    id: 'recovery-vs-journal',
    title: 'Recovery time vs journal length',
    note,
    xLabel: 'journal length (commands replayed)',
    yLabel: 'recovery time (s)',
    series,
  };
}
