/**
 * Where results go: bench/results/latest.json (every part's latest outcome, merged, so running one part
 * refreshes its entry and keeps the others), latest.md (the Markdown report) and one SVG per plot.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Machine } from './machine.js';
import { renderMarkdown } from './markdown.js';
import { projectRoot } from './paths.js';
import { isPlot } from './plot.js';
import { renderSvg } from './svg.js';

export interface PartOutcome {
  part: string;
  status: 'ok' | 'missing' | 'failed';
  /** The exact command that produced it, so anyone can re-run it. */
  command: string;
  startedAt: string;
  durationSec: number;
  machine: Machine;
  result?: Record<string, unknown>;
  error?: string;
  /** SVG files written for this part, relative to the results folder. */
  plots?: string[];
}

export interface ResultsFile {
  generatedAt: string;
  parts: Record<string, PartOutcome>;
}

/** bench/results in the source tree, also when running from dist/bench/lib. */
export function resultsDir(): string {
  if (process.env.BENCH_RESULTS_DIR) return process.env.BENCH_RESULTS_DIR;
  return path.join(projectRoot(), 'bench', 'results');
}

export function readResults(dir = resultsDir()): ResultsFile {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')) as ResultsFile;
  } catch {
    return { generatedAt: new Date().toISOString(), parts: {} };
  }
}

/** Writes the part's plots, merges its outcome into latest.json and regenerates latest.md. */
export function recordOutcome(outcome: PartOutcome, dir = resultsDir()): PartOutcome {
  mkdirSync(dir, { recursive: true });
  const plots = outcome.result?.plots;
  if (Array.isArray(plots)) {
    outcome.plots = [];
    for (const plot of plots) {
      if (!isPlot(plot)) continue;
      const file = `${outcome.part}-${plot.id}.svg`;
      writeFileSync(path.join(dir, file), renderSvg(plot));
      outcome.plots.push(file);
    }
  }
  const all = readResults(dir);
  all.generatedAt = new Date().toISOString();
  all.parts[outcome.part] = outcome;
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(all, null, 2)}\n`);
  writeFileSync(path.join(dir, 'latest.md'), renderMarkdown(all));
  return outcome;
}
