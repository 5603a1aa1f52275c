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

export interface ReplicaHost {
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
  let stopping = false;
  let worker: Worker | null = null;
  let exited: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = () => {
    const { url, execArgv } = threadUrl();
    const w = new Worker(url, { workerData: data, execArgv });
    worker = w;
    w.on('message', (m: ReplicaMessage) => options.onMessage?.(m));
    w.on('error', (e) => options.onMessage?.({ type: 'error', message: e.message }));
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
