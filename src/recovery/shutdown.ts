/**
 * The end of a graceful shutdown, after the server stopped accepting and flushed its last batch: wait until
 * the workers have persisted everything (the watermark reaches the engine's last seq), then take a final
 * snapshot at that seq, so the next start loads it and replays nothing.
 */
import type { DatabasePool } from 'slonik';
import type { Engine } from '../../engine/engine.js';
import { readWatermark } from '../../persistence/watermark.js';
import type { SnapshotStats } from './snapshotter.js';
import { type SnapshotOptions, takeSnapshot } from './snapshotter.js';

export interface FinishShutdownOptions extends SnapshotOptions {
  engine: Engine;
  pool: DatabasePool;
  /** Give up waiting for the workers after this long (no final snapshot then). Default 30 s. */
  timeoutMs?: number;
  pollMs?: number;
  /** Take the final snapshot (default true). */
  snapshot?: boolean;
}

export interface ShutdownResult {
  seq: number;
  watermark: number;
  /** Whether the workers reached the engine's last seq in time. */
  persisted: boolean;
  snapshot: SnapshotStats | null;
}

export async function finishShutdown(options: FinishShutdownOptions): Promise<ShutdownResult> {
  const seq = options.engine.lastSeq;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let watermark = await readWatermark(options.pool);
  while (watermark < seq && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    watermark = await readWatermark(options.pool);
  }
  const persisted = watermark >= seq;
  // Without the workers done, a snapshot at `seq` would be above the watermark: recovery would skip it.
  const snapshot =
    persisted && seq > 0 && (options.snapshot ?? true)
      ? // order flow has stopped: hashing the live engine here pauses nobody, and spares the restart it
        await takeSnapshot(options.engine, options.pool, { proveWithLiveHash: true, ...options })
      : null;
  return { seq, watermark, persisted, snapshot };
}
