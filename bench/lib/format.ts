/**
 * Turning a part's result record into rows for the terminal table and the Markdown report. Nested objects
 * flatten to dotted keys; a median-with-spread object prints as one cell; plots, raw samples and long
 * arrays stay out (they live in the JSON file and the SVGs).
 */
const HIDDEN_KEYS = new Set(['plots', 'machine', 'samples']);

export type Row = [key: string, value: string];

export function flattenRows(record: Record<string, unknown>, prefix = ''): Row[] {
  const rows: Row[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_KEYS.has(key)) continue;
    const name = prefix ? `${prefix}.${key}` : key;
    if (isSpreadLike(value)) {
      rows.push([name, formatSpread(value)]);
    } else if (isLatencyLike(value)) {
      rows.push([name, formatLatency(value)]);
    } else if (Array.isArray(value)) {
      if (value.length <= 8 && value.every((v) => typeof v !== 'object' || v === null)) {
        rows.push([name, value.map(formatValue).join(', ')]);
      }
    } else if (typeof value === 'object' && value !== null) {
      rows.push(...flattenRows(value as Record<string, unknown>, name));
    } else {
      rows.push([name, formatValue(value)]);
    }
  }
  return rows;
}

interface SpreadLike {
  median: number;
  min: number;
  max: number;
  n?: number;
}

function isSpreadLike(v: unknown): v is SpreadLike {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.median === 'number' && typeof s.min === 'number' && typeof s.max === 'number';
}

function formatSpread(s: SpreadLike): string {
  const n = s.n === undefined ? '' : `, n=${s.n}`;
  return `${formatNumber(s.median)} (min ${formatNumber(s.min)}, max ${formatNumber(s.max)}${n})`;
}

interface LatencyLike {
  count: number;
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
}

function isLatencyLike(v: unknown): v is LatencyLike {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.p50Ns === 'number' && typeof s.p99Ns === 'number' && typeof s.maxNs === 'number';
}

/** A latency summary on one line: p50, p99, p99.9 and max with readable units. */
function formatLatency(l: LatencyLike): string {
  return `p50 ${duration(l.p50Ns)}, p99 ${duration(l.p99Ns)}, p99.9 ${duration(l.p999Ns)}, max ${duration(l.maxNs)} (n=${formatNumber(l.count)})`;
}

/** Nanoseconds in the unit that keeps 1-3 integer digits. */
export function duration(ns: number): string {
  if (ns >= 1e9) return `${Number((ns / 1e9).toPrecision(3))} s`;
  if (ns >= 1e6) return `${Number((ns / 1e6).toPrecision(3))} ms`;
  if (ns >= 1e3) return `${Number((ns / 1e3).toPrecision(3))} µs`;
  return `${Math.round(ns)} ns`;
}

export function formatValue(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (v === null || v === undefined) return '-';
  return String(v);
}

/** 1234567 -> "1,234,567"; 0.01234 -> "0.0123". */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) || Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return String(Number(n.toPrecision(3)));
}
