/**
 * Warm-up and repeats, side by side. Contenders are interleaved (A, B, A, B, ...) rather than run in
 * blocks, so a slow drift of the machine (thermal, another process, GC pressure) hits both equally and
 * the ratio of medians stays honest.
 */
import { forceGc } from './gc.js';
import { type Spread, summarize } from './stats.js';

export interface Contender {
  name: string;
  /** Overrides RepeatOptions for this contender (a slow peer may get fewer repeats). */
  repeats?: number;
  warmup?: number;
  /** One measured run; returns the figure to summarize (ops/s, seconds, ...). */
  run(repeat: number): number | Promise<number>;
}

export interface RepeatOptions {
  warmup: number;
  repeats: number;
  /** Called before each run, e.g. to advance a progress display. */
  onRun?(name: string, repeat: number, warmup: boolean): void;
}

export async function interleave(
  contenders: readonly Contender[],
  opts: RepeatOptions,
): Promise<Record<string, Spread>> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const maxWarmup = Math.max(...contenders.map((c) => c.warmup ?? opts.warmup));
  const maxRepeats = Math.max(...contenders.map((c) => c.repeats ?? opts.repeats));
  for (let r = -maxWarmup; r < maxRepeats; r++) {
    for (const c of contenders) {
      if (r < -(c.warmup ?? opts.warmup) || r >= (c.repeats ?? opts.repeats)) continue;
      opts.onRun?.(c.name, r, r < 0);
      // Collect the previous run's garbage outside the measured region, when --expose-gc allows it.
      forceGc();
      const value = await c.run(r);
      if (r >= 0) samples.get(c.name)?.push(value);
    }
  }
  const out: Record<string, Spread> = {};
  for (const [name, s] of samples) out[name] = summarize(s);
  return out;
}
