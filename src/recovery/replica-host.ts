/**
 * Runs the replica (replica.ts) on its own worker thread beside the live engine, restarts it after a
 * failure (it recovers from PostgreSQL again, so a restart loses nothing), and stops it on shutdown.
 */
import { Worker } from 'node:worker_threads';
import { DEFAULT_REPLICA_SCHEDULE, type ReplicaSchedule } from './replica.js';
import type { ReplicaMessage, ReplicaThreadData } from './replica-thread.js';

export interface ReplicaHostOptions {
  databaseUrl: string;
  risk: boolean;
  schedule?: Partial<ReplicaSchedule>;
  /** How often the replica looks for newly persisted commands. Default 1 s. */
  pollMs?: number;
  /** Wait before restarting a failed replica. Default 10 s. */
  restartMs?: number;
  /** Every message of the thread (ready, checkpoint, snapshot, error, stopped), for logs and tests. */
  onMessage?: (m: ReplicaMessage) => void;
}

/** What the replica last reported, for /metrics. */
export interface ReplicaStatus {
  /** The seq it has applied up to (as of its last report); 0 until it is ready. */
  seq: number;
  lastCheckpointSeq: number;
  lastSnapshotSeq: number;
  /** Wall time of its last snapshot, all phases (ms). */
  lastSnapshotMs: number;
  /** Times it failed (and was restarted). */
  failures: number;
}

export interface ReplicaHost {
  readonly status: ReplicaStatus;
  /** Asks for a snapshot at the replica's seq now (e.g. before maintenance); a 'snapshot' message follows. */
  snapshotNow(): void;
  /**
   * Asks the replica to finish its step in hand and waits for its thread to end; after `timeoutMs`
   * (default 5 s) the thread is terminated: nothing it holds is needed (a snapshot row is one INSERT).
   */
  stop(timeoutMs?: number): Promise<void>;
}

/** The thread's script; from TypeScript sources (tests) it loads through jiti, as the snapshot worker does. */
function threadUrl(): { url: URL; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const url = new URL(ts ? './replica-thread.ts' : './replica-thread.js', import.meta.url);
  return { url, execArgv: ts ? ['--import', 'jiti/register'] : [] };
}

export function startReplica(options: ReplicaHostOptions): ReplicaHost {
  const data: ReplicaThreadData = {
    databaseUrl: options.databaseUrl,
    risk: options.risk,
    schedule: { ...DEFAULT_REPLICA_SCHEDULE, ...options.schedule },
    pollMs: options.pollMs ?? 1000,
  };
  const status: ReplicaStatus = {
    seq: 0,
    lastCheckpointSeq: 0,
    lastSnapshotSeq: 0,
    lastSnapshotMs: 0,
    failures: 0,
  };
  const track = (m: ReplicaMessage) => {
    if (m.type === 'error') status.failures++;
    else if (m.type === 'checkpoint') status.seq = status.lastCheckpointSeq = m.seq;
    else if (m.type === 'snapshot') {
      status.seq = status.lastCheckpointSeq = status.lastSnapshotSeq = m.seq;
      status.lastSnapshotMs = m.serializeMs + m.proveMs + m.compressMs + m.writeMs;
    } else status.seq = m.seq;
    options.onMessage?.(m);
  };
  let stopping = false;
  let worker: Worker | null = null;
  let exited: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = () => {
    const { url, execArgv } = threadUrl();
    const w = new Worker(url, { workerData: data, execArgv });
    worker = w;
    w.on('message', track);
    w.on('error', (e) => track({ type: 'error', message: e.message }));
    exited = new Promise((resolve) => {
      w.once('exit', (code) => {
        worker = null;
        resolve();
        if (!stopping && code !== 0) {
          restartTimer = setTimeout(launch, options.restartMs ?? 10_000);
          restartTimer.unref();
        }
      });
    });
  };
  launch();

  return {
    status,
    snapshotNow() {
      worker?.postMessage('snapshot');
    },
    async stop(timeoutMs = 5000) {
      stopping = true;
      clearTimeout(restartTimer);
      const w = worker;
      if (w === null) return;
      w.postMessage('stop');
      const timer = setTimeout(() => void w.terminate(), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
