/**
 * The suite's parts, in the order `npm run bench` runs them, with what each measures and the arguments the
 * full-suite run passes so that the whole suite fits in 15 minutes on a 2-core machine. A single part run
 * (`npm run bench -- <part>`) uses the part's own defaults instead.
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
    suiteArgs: ['--peer-ops', '100000'],
    suiteTimeoutSec: 240,
  },
  {
    name: 'core',
    file: 'core.js',
    what: 'benchmark.js suite of add, cancel, match, amend',
    suiteArgs: ['--max-time', '2'],
    suiteTimeoutSec: 150,
  },
  {
    name: 'risk',
    file: 'risk.js',
    what: 'mixed flow across 10,000 accounts, risk core on vs off',
    suiteArgs: [],
    suiteTimeoutSec: 180,
  },
  {
    name: 'e2e',
    file: 'e2e.js',
    what: 'end to end over WebSocket, durable and fast',
    suiteArgs: [],
    suiteTimeoutSec: 180,
  },
  {
    name: 'persistence',
    file: 'persistence.js',
    what: 'persistence throughput and lag',
    suiteArgs: [],
    suiteTimeoutSec: 150,
  },
  {
    name: 'recovery',
    file: 'recovery.js',
    what: 'recovery time vs journal length',
    suiteArgs: [],
    suiteTimeoutSec: 150,
  },
];

/** The full suite's wall-clock budget. */
export const SUITE_BUDGET_SEC = 15 * 60;

export function findPart(name: string): PartInfo | undefined {
  return PARTS.find((p) => p.name === name);
}
