/**
 * Access to the garbage collector. Heap measurements need `--expose-gc`; so do clean repeats (the previous
 * run's garbage should not be collected inside the next measured run). The dispatcher re-spawns node with
 * the flag when it is missing.
 */
import { spawnSync } from 'node:child_process';

type GcFn = () => void;

function gcFn(): GcFn | undefined {
  const g = (globalThis as { gc?: GcFn }).gc;
  return typeof g === 'function' ? g : undefined;
}

export function hasGc(): boolean {
  return gcFn() !== undefined;
}

/** Full collections until the heap settles; a no-op without --expose-gc. */
export function forceGc(): void {
  const gc = gcFn();
  if (gc === undefined) return;
  gc();
  gc();
}

/**
 * Runs this same script again under `node --expose-gc` with the same arguments and exits with its status.
 * Returns only when gc is already exposed.
 */
export function ensureGcOrRespawn(): void {
  if (hasGc()) return;
  const script = process.argv[1];
  const res = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, script, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(res.status ?? 1);
}
