/**
 * The replica's thread (see replica.ts): opens the replica from PostgreSQL, then every `pollMs` follows the
 * persisted journal and takes the checkpoints and snapshots that are due. It reports to its host
 * (replica-host.ts) by messages. The host may post 'snapshot' (one now, at the replica's seq, due or not)
 * and 'stop' (finish the step in hand, then end).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabasePool } from '../../persistence/db.js';
import {
  due,
  Replica,
  type ReplicaCheckpoint,
  type ReplicaSchedule,
  type ReplicaSnapshot,
} from './replica.js';

export interface ReplicaThreadData {
  databaseUrl: string;
  risk: boolean;
  schedule: ReplicaSchedule;
  pollMs: number;
}

export type ReplicaMessage =
  | { type: 'ready'; seq: number; ms: number }
  | ({ type: 'checkpoint'; lag: number } & ReplicaCheckpoint)
  | ({ type: 'snapshot' } & ReplicaSnapshot)
  | { type: 'error'; message: string }
  | { type: 'stopped'; seq: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(data: ReplicaThreadData, post: (m: ReplicaMessage) => void): Promise<void> {
  let stopping = false;
  let snapshotRequested = false;
  let wake: (() => void) | null = null;
  parentPort?.on('message', (m: unknown) => {
    if (m === 'stop') stopping = true;
    else if (m === 'snapshot') snapshotRequested = true;
    wake?.();
  });
  const pool = await createDatabasePool(data.databaseUrl, {
    maximumPoolSize: 2,
    applicationName: 'exchange-replica',
  });
  try {
    const t0 = performance.now();
    const replica = await Replica.open(pool, { risk: data.risk });
    post({ type: 'ready', seq: replica.seq, ms: performance.now() - t0 });
    const s = data.schedule;
    const now = Date.now();
    // What recovery loaded counts as the last snapshot and checkpoint: nothing is due until the journal moves.
    const last = { checkpointSeq: replica.seq, checkpointAt: now, snapshotSeq: replica.seq, snapshotAt: now };
    while (!stopping) {
      // In steps of at most one checkpoint interval, so a replica far behind still checkpoints on schedule.
      const step = await replica.follow(replica.seq + s.checkpointEveryCommands);
      const what = snapshotRequested ? 'snapshot' : due(s, replica.seq, Date.now(), last);
      snapshotRequested = false;
      if (what === 'snapshot') {
        const r = await replica.snapshot(s.keep);
        last.snapshotSeq = last.checkpointSeq = r.seq;
        last.snapshotAt = last.checkpointAt = Date.now();
        post({ type: 'snapshot', ...r });
      } else if (what === 'checkpoint') {
        const r = await replica.checkpoint();
        last.checkpointSeq = r.seq;
        last.checkpointAt = Date.now();
        post({ type: 'checkpoint', ...r, lag: step.watermark - r.seq });
      }
      if (replica.seq < step.watermark) continue; // behind: keep going
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, data.pollMs);
      });
      wake = null;
    }
    post({ type: 'stopped', seq: replica.seq });
  } finally {
    await pool.end();
  }
}

if (parentPort !== null) {
  const port = parentPort;
  run(workerData as ReplicaThreadData, (m) => port.postMessage(m)).catch(async (error: Error) => {
    port.postMessage({ type: 'error', message: error.message } satisfies ReplicaMessage);
    // Let the message leave before the thread ends.
    await sleep(10);
    process.exit(1);
  });
}
