/**
 * Line charts as hand-written SVG: no plotting dependency, output readable in any browser and on GitHub.
 * Handles linear, log10 and HDR-style percentile axes (the tail stretched: 90%, 99%, 99.9% equally spaced).
 */
import type { AxisKind, Plot } from './plot.js';

const W = 760;
const H = 420;
const M = { left: 78, right: 180, top: 52, bottom: 56 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

interface Scale {
  map(v: number): number;
  ticks: Array<{ v: number; label: string }>;
}

export function renderSvg(plot: Plot): string {
  const xKind = plot.axis?.x ?? 'linear';
  const yKind = plot.axis?.y ?? 'linear';
  const pts = plot.series
    .flatMap((s) => s.points)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pts.map((p) => toAxis(xKind, p[0]));
  const ys = pts.map((p) => toAxis(yKind, p[1]));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const xScale = makeScale(xKind, xs, M.left, M.left + pw);
  const yScale = makeScale(yKind, ys, M.top + ph, M.top);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(plot.title)}</text>`,
  );
  if (plot.note) out.push(`<text x="${M.left}" y="40" fill="#555">${esc(plot.note)}</text>`);
  // Grid and tick labels.
  for (const t of xScale.ticks) {
    const x = xScale.map(t.v);
    out.push(
      `<line x1="${f(x)}" y1="${M.top}" x2="${f(x)}" y2="${M.top + ph}" stroke="#e5e5e5"/>`,
      `<text x="${f(x)}" y="${M.top + ph + 16}" text-anchor="middle" fill="#333">${esc(t.label)}</text>`,
    );
  }
  for (const t of yScale.ticks) {
    const y = yScale.map(t.v);
    out.push(
      `<line x1="${M.left}" y1="${f(y)}" x2="${M.left + pw}" y2="${f(y)}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${f(y + 4)}" text-anchor="end" fill="#333">${esc(t.label)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(plot.xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(plot.yLabel)}</text>`,
  );
  if (pts.length === 0) {
    out.push(
      `<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" fill="#999">no data</text>`,
    );
  }
  plot.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const path = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(
        ([x, y], k) =>
          `${k === 0 ? 'M' : 'L'}${f(xScale.map(toAxis(xKind, x)))},${f(yScale.map(toAxis(yKind, y)))}`,
      )
      .join(' ');
    if (path) out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (s.points.length <= 40) {
      for (const [x, y] of s.points) {
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        out.push(
          `<circle cx="${f(xScale.map(toAxis(xKind, x)))}" cy="${f(yScale.map(toAxis(yKind, y)))}" r="2.5" fill="${color}"/>`,
        );
      }
    }
    const ly = M.top + 10 + i * 20;
    out.push(
      `<line x1="${M.left + pw + 14}" y1="${ly}" x2="${M.left + pw + 34}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${M.left + pw + 40}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Percentile axes plot -log10(1 - p): 90% -> 1, 99% -> 2, 99.9% -> 3, as HDR histogram plots do. */
function toAxis(kind: AxisKind, v: number): number {
  if (kind === 'log') return v > 0 ? Math.log10(v) : Number.NaN;
  if (kind === 'percentile') return -Math.log10(Math.max(1e-7, 1 - v / 100));
  return v;
}

function makeScale(kind: AxisKind, values: number[], from: number, to: number): Scale {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  let ticks: Array<{ v: number; label: string }>;
  if (kind === 'percentile') {
    lo = 0;
    hi = Math.max(1, Math.ceil(hi));
    ticks = [];
    for (let d = 0; d <= hi; d++)
      ticks.push({ v: d, label: d === 0 ? '0%' : `${Number((100 - 100 / 10 ** d).toFixed(d))}%` });
  } else if (kind === 'log') {
    lo = Math.floor(lo);
    hi = Math.max(lo + 1, Math.ceil(hi));
    ticks = [];
    for (let d = lo; d <= hi; d++) ticks.push({ v: d, label: short(10 ** d) });
  } else {
    if (lo > 0 && lo < hi * 0.5) lo = 0; // start at zero unless the data sits far from it
    if (hi === lo) hi = lo + 1;
    const step = niceStep((hi - lo) / 6);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    ticks = [];
    for (let v = lo; v <= hi + step / 2; v += step) ticks.push({ v, label: short(v) });
  }
  const span = hi - lo || 1;
  return { map: (v) => from + ((v - lo) / span) * (to - from), ticks };
}

function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trimNum(v / 1e9)}G`;
  if (a >= 1e6) return `${trimNum(v / 1e6)}M`;
  if (a >= 1e3) return `${trimNum(v / 1e3)}k`;
  return trimNum(v);
}

function trimNum(v: number): string {
  return String(Number(v.toPrecision(4)));
}

function f(v: number): string {
  return v.toFixed(1);
}

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
