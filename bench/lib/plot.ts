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
