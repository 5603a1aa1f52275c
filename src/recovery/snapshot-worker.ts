/**
 * Worker thread half of a snapshot: the engine thread only serializes (snapshotEngine); this thread
 * restores the bytes into a scratch engine (proving they decode), computes its state hash (the value stored
 * with the snapshot and checked at recovery) and compresses. Both the hash and the compression are long
 * for a large book, and neither needs the live engine.
 */
import { parentPort } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { restoreEngine } from '../../engine/snapshot.js';

export interface SnapshotJob {
  bytes: Uint8Array;
}

export interface SnapshotJobResult {
  hash: string;
  compressed: Uint8Array;
  hashMs: number;
  compressMs: number;
}

export function processSnapshot(bytes: Uint8Array): SnapshotJobResult {
  const t0 = performance.now();
  const hash = restoreEngine(bytes).stateHash();
  const t1 = performance.now();
  const compressed = gzipSync(bytes, { level: 1 });
  const t2 = performance.now();
  return { hash, compressed, hashMs: t1 - t0, compressMs: t2 - t1 };
}

parentPort?.once('message', (job: SnapshotJob) => {
  try {
    const result = processSnapshot(job.bytes);
    const out = new Uint8Array(result.compressed);
    parentPort!.postMessage({ ok: true, ...result, compressed: out }, [out.buffer]);
  } catch (error) {
    parentPort!.postMessage({ ok: false, error: (error as Error).message });
  }
});
