/**
 * Periodic engine snapshots, so a restart replays only the journal's tail.
 *
 * A snapshot is taken when the engine has moved `everyCommands` commands past the last one, or `everyMs`
 * has passed with at least one command since. Only the serialization runs on the engine thread (that is
 * the pause the order flow sees, reported as `pauseMs`); restoring-to-hash and compression run on a worker
 * thread, the write is async. One snapshot at a time.
 *
 * A snapshot may be ahead of the persisted watermark when it is taken; recovery only ever loads the newest
 * snapshot at or below the watermark, so that is safe. Old snapshots are pruned (snapshot-store.ts).
 */
import { Worker } from 'node:worker_threads';
import { type DatabasePool, sql } from 'slonik';
import type { Engine } from '../../engine/engine.js';
import { snapshotEngine } from '../../engine/snapshot.js';
import { readWatermark } from '../../persistence/watermark.js';
import { pruneSnapshots, saveSnapshot } from './snapshot-store.js';
import type { SnapshotJobResult } from './snapshot-worker.js';
import { processSnapshot } from './snapshot-worker.js';

export interface SnapshotStats {
  seq: number;
  hash: string;
  /** Whether the restored copy was checked against the live engine's hash (checkpoint or live hash). */
  proven: boolean;
  /** Time the engine thread spent (checkpoint hash if any, serialization): the pause in order flow. */
  pauseMs: number;
  hashMs: number;
  compressMs: number;
  writeMs: number;
  totalMs: number;
  bytes: number;
  storedBytes: number;
  pruned: number;
}

export interface SnapshotOptions {
  /**
   * Issues a checkpoint command right before the snapshot and returns the state hash the engine emitted
   * for it, e.g. `() => hashOf(sequencer.submit({ type: 'checkpoint' }))`. The snapshot is then taken at
   * that very seq and its restored copy must hash the same, which proves the snapshot reproduces the live
   * engine; a restart can then trust it without hashing it again (recover.ts, verifySnapshotHash 'auto').
   * The checkpoint's hash runs on the engine thread and is part of the pause.
   */
  checkpoint?: () => string | null;
  /**
   * Without a checkpoint: hash the live engine here (on the engine thread) and record it in state_hashes
   * at the snapshot's seq, for the same proof. Right for a final snapshot at shutdown, when order flow has
   * stopped; default false.
   */
  proveWithLiveHash?: boolean;
  /** Hash and compress on a worker thread (default true). Off: inline, for tools and tests. */
  offThread?: boolean;
  /** Snapshots kept (pruning policy, snapshot-store.ts). Default 3. */
  keep?: number;
}

/** Runs the worker-thread half; from TypeScript sources (tests) the worker loads through jiti. */
function runWorker(bytes: Uint8Array): Promise<SnapshotJobResult> {
  const url = new URL(
    import.meta.url.endsWith('.ts') ? './snapshot-worker.ts' : './snapshot-worker.js',
    import.meta.url,
  );
  const execArgv = url.pathname.endsWith('.ts') ? ['--import', 'jiti/register'] : [];
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { execArgv });
    worker.once('message', (m: ({ ok: true } & SnapshotJobResult) | { ok: false; error: string }) => {
      void worker.terminate();
      if (m.ok) resolve(m);
      else reject(new Error(`snapshot worker: ${m.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`snapshot worker exited with ${code}`));
    });
    // A copy the worker can own: the codec's buffer may be a view into a larger, pooled allocation.
    const owned = new Uint8Array(bytes);
    worker.postMessage({ bytes: owned }, [owned.buffer]);
  });
}

/** Takes one snapshot now and stores it. */
export async function takeSnapshot(
  engine: Engine,
  pool: DatabasePool,
  options: SnapshotOptions = {},
): Promise<SnapshotStats> {
  const t0 = performance.now();
  let liveHash = options.checkpoint?.() ?? null;
  const seq = engine.lastSeq;
  const bytes = snapshotEngine(engine);
  if (liveHash === null && options.proveWithLiveHash) liveHash = engine.stateHash();
  const pauseMs = performance.now() - t0;
  const r = (options.offThread ?? true) ? await runWorker(bytes) : processSnapshot(bytes);
  if (liveHash !== null && r.hash !== liveHash) {
    throw new Error(
      `snapshot at seq ${seq} does not reproduce the live engine (restored hash ${r.hash}, live ${liveHash}): not stored`,
    );
  }
  const t1 = performance.now();
  if (liveHash !== null && options.checkpoint === undefined) {
    // The proof a restart looks for (the checkpoint path gets its row from the workers instead).
    await pool.query(sql.unsafe`
      INSERT INTO state_hashes (seq, hash, ts) VALUES (${seq}, ${liveHash}, exch_us_to_ts(${engine.now}))
      ON CONFLICT (seq) DO NOTHING`);
  }
  await saveSnapshot(pool, seq, r.hash, r.compressed);
  const watermark = await readWatermark(pool);
  const pruned = await pruneSnapshots(pool, options.keep ?? 3, watermark);
  const t2 = performance.now();
  return {
    seq,
    hash: r.hash,
    proven: liveHash !== null,
    pauseMs,
    hashMs: r.hashMs,
    compressMs: r.compressMs,
    writeMs: t2 - t1,
    totalMs: t2 - t0,
    bytes: bytes.byteLength,
    storedBytes: r.compressed.byteLength,
    pruned,
  };
}

export interface SnapshotterOptions extends SnapshotOptions {
  engine: Engine;
  pool: DatabasePool;
  /** Snapshot after this many commands since the last one. Default 1,000,000. */
  everyCommands?: number;
  /** ... or after this long with at least one command since. Default 10 minutes. */
  everyMs?: number;
  /** How often the conditions are checked. Default 1 s. */
  checkMs?: number;
  onSnapshot?: (stats: SnapshotStats) => void;
  onError?: (error: Error) => void;
}

export class Snapshotter {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<SnapshotStats> | undefined;
  private lastSeq: number;
  private lastAt = Date.now();

  constructor(private readonly options: SnapshotterOptions) {
    this.lastSeq = options.engine.lastSeq;
  }

  /** seq of the last snapshot this snapshotter took (or the engine's seq when it started). */
  get lastSnapshotSeq(): number {
    return this.lastSeq;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.options.checkMs ?? 1000);
    this.timer.unref();
  }

  /** Takes a snapshot if one is due (also called by the timer). */
  tick(): void {
    if (this.inFlight !== undefined) return;
    const seq = this.options.engine.lastSeq;
    const since = seq - this.lastSeq;
    if (since <= 0) return;
    const due =
      since >= (this.options.everyCommands ?? 1_000_000) ||
      Date.now() - this.lastAt >= (this.options.everyMs ?? 600_000);
    if (due) void this.snapshot().catch((e: Error) => this.options.onError?.(e));
  }

  /** Takes a snapshot now (waits for one in flight first). */
  async snapshot(): Promise<SnapshotStats> {
    while (this.inFlight !== undefined) await this.inFlight.catch(() => {});
    const p = takeSnapshot(this.options.engine, this.options.pool, this.options);
    this.inFlight = p;
    try {
      const stats = await p;
      this.lastSeq = stats.seq;
      this.lastAt = Date.now();
      this.options.onSnapshot?.(stats);
      return stats;
    } finally {
      this.inFlight = undefined;
    }
  }

  /** Stops the timer and waits for a snapshot in flight. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => {});
  }
}
