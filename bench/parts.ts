/**
 * The suite's parts, in the order `npm run bench` runs them, with what each measures and the arguments the
 * full-suite run passes so that the whole suite fits in 20 minutes on a 2-core machine. A single part run
 * (`npm run bench -- <part>`) uses the part's own defaults instead.
 *
 * Writing a part (bench/<name>.ts):
 * - export `async function run(args: string[]): Promise<Record<string, unknown>>`; read flags with
 *   `new Flags(args)` (lib/args.ts) and call `flags.done()` so a typo fails instead of running defaults;
 * - put the headline numbers at the top level of the record (a script reads them from the last stdout
 *   line), a `workload` string saying exactly what ran, and medians with spread from `interleave` /
 *   `summarize` (lib/repeat.ts, lib/stats.ts) after a warm-up;
 * - optional `plots: Plot[]` (lib/plot.ts) become bench/results/<part>-<id>.svg;
 * - progress and status go to stderr (lib/progress.ts); stdout belongs to the dispatcher;
 * - the machine description is added by the dispatcher; `BENCH_SUITE=1` is set when running inside the
 *   full suite, where a part should stay inside its `suiteTimeoutSec`.
 */
export interface PartInfo {
  name: string;
  /** Module next to run.ts exporting `async function run(args: string[]): Promise<Record<string, unknown>>`. */
  file: string;
  what: string;
  suiteArgs: string[];
  /** Wall-clock cap for this part inside the full suite. */
  suiteTimeoutSec: number;
}

export const PARTS: readonly PartInfo[] = [
  {
    name: 'engine',
    file: 'engine.js',
    what: 'matching core vs nodejs-order-book on the same seeded mixed flow; latency; heap per resting order',
    suiteArgs: ['--repeats', '3'],
    // The peer runs the whole 1M-op flow once (about 90 s here).
    suiteTimeoutSec: 360,
  },
  {
    name: 'core',
    file: 'core.js',
    what: 'benchmark.js suite of add, cancel, match, amend',
    suiteArgs: ['--max-time', '2'],
    suiteTimeoutSec: 90,
  },
  {
    name: 'risk',
    file: 'risk.js',
    what: 'mixed flow across 10,000 accounts, risk core on vs off',
    // The dry runs already warm the JIT up; three repeats keep the 1M-op flow inside the suite's budget.
    suiteArgs: ['--repeats', '3', '--warmup', '0'],
    suiteTimeoutSec: 240,
  },
  {
    name: 'e2e',
    file: 'e2e.js',
    what: 'end to end over WebSocket, durable and fast',
    suiteArgs: [],
    suiteTimeoutSec: 150,
  },
  {
    name: 'persistence',
    file: 'persistence.js',
    what: 'persistence throughput and lag',
    suiteArgs: [],
    suiteTimeoutSec: 240,
  },
  {
    name: 'statements',
    file: 'statements.js',
    what: "PostgreSQL alone on the persistence pipeline's statements: time per fill, and per table",
    suiteArgs: [],
    suiteTimeoutSec: 120,
  },
  {
    name: 'recovery',
    file: 'recovery.js',
    what: 'recovery time vs journal length',
    // The full defaults (journals up to 5M, a 1M-command replay from PostgreSQL) take about ten minutes;
    // inside the suite: journals of 100k, and the 1M-resting-order restart the issue targets.
    suiteArgs: ['--sizes', '100000', '--journal-max', '100000', '--resting', '100000,1000000'],
    suiteTimeoutSec: 300,
  },
  {
    name: 'crash',
    file: 'crash.js',
    what: 'the long crash runs: 20 kill -9s of the engine (recovery time per kill), a worker kill, a Redis restart; 20 kill -9s of the product process under client load',
    // About seven minutes here; the cap leaves room, since a capped run would orphan its child processes.
    suiteArgs: ['--kills', '20', '--gateway-kills', '20'],
    suiteTimeoutSec: 780,
  },
];

/** The full suite's wall-clock budget. */
export const SUITE_BUDGET_SEC = 20 * 60;

export function findPart(name: string): PartInfo | undefined {
  return PARTS.find((p) => p.name === name);
}
