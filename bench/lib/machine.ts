/**
 * What the numbers were measured on. Every report carries it: a throughput figure without its machine
 * and runtime is not comparable to anything.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { givenNodeFlags } from '../../src/runtime.js';
import { hasGc } from './gc.js';

export interface Machine {
  cores: number;
  cpuModel: string;
  cpuMHz: number | null;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  v8: string;
  /** Which uWebSockets.js loaded: the native addon, the package's `ws`-based fallback shim, or none. */
  uws: 'native' | 'shim' | 'absent';
  gcExposed: boolean;
  /**
   * The node flags this process runs with (the product's V8 flags are among them: src/runtime.ts).
   * Absent in reports written before it was recorded.
   */
  nodeFlags?: string[];
  /** 1-minute load average when the part started: above ~0.5 per core, other work shared the CPU. */
  loadAvg1m: number;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const mhz = cpus[0]?.speed ?? 0;
  return {
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuMHz: mhz > 0 ? mhz : null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    node: process.version,
    v8: process.versions.v8,
    uws: uwsFlavour(),
    gcExposed: hasGc(),
    nodeFlags: givenNodeFlags().filter((f) => !f.startsWith('--cpu-prof')),
    loadAvg1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/**
 * The uWebSockets.js package silently falls back to a `ws` shim when no binary matches this Node ABI (or
 * when UWS_USE_FALLBACK is set). Loading the exact binary it would load tells the two apart, so a report
 * never presents the shim's numbers as uWS's.
 */
function uwsFlavour(): Machine['uws'] {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = require.resolve('uWebSockets.js/package.json').replace(/package\.json$/, '');
  } catch {
    return 'absent';
  }
  if (/^(true|1)$/i.test(process.env.UWS_USE_FALLBACK ?? '')) return 'shim';
  const binary = `${pkgDir}binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  if (!existsSync(binary)) return 'shim';
  try {
    require(binary);
    return 'native';
  } catch {
    return 'shim';
  }
}

/** One line for report headers. */
export function machineLine(m: Machine): string {
  return `${m.cores} cores, ${m.cpuModel}${m.cpuMHz ? ` @ ${m.cpuMHz} MHz` : ''}, ${m.memoryGiB} GiB, ${m.platform}, Node ${[m.node, ...(m.nodeFlags ?? [])].join(' ')}, uWS ${m.uws}, load ${m.loadAvg1m}`;
}
