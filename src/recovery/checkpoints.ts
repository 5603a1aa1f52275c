/**
 * Periodic checkpoint commands: each makes the engine emit its state hash at that seq (a `state_hash`
 * event, persisted to state_hashes by the workers), which recovery later checks its replay against.
 *
 * The engine computes the hash synchronously over its whole state, so a checkpoint is a pause in order flow
 * that grows with the book (about a second per million resting orders on the development machine): keep
 * the interval in minutes or hundreds of thousands of commands, not seconds.
 */
export interface CheckpointOptions {
  /** Issues one checkpoint command, e.g. `() => sequencer.submit({ type: 'checkpoint' })`. */
  submit: () => void;
  /** The engine's last seq. */
  lastSeq: () => number;
  /** After this many commands since the last checkpoint. Default 100,000. */
  everyCommands?: number;
  /** ... or after this long with at least one command since. Default 60 s. */
  everyMs?: number;
  /** How often the conditions are checked. Default 1 s. */
  checkMs?: number;
  onError?: (error: Error) => void;
}

export interface Checkpoints {
  /** Issues a checkpoint now if any command came since the last one. */
  tick(force?: boolean): void;
  stop(): void;
}

export function startCheckpoints(options: CheckpointOptions): Checkpoints {
  let lastSeq = options.lastSeq();
  let lastAt = Date.now();
  const tick = (force = false): void => {
    const seq = options.lastSeq();
    const since = seq - lastSeq;
    if (since <= 0) return;
    if (
      force ||
      since >= (options.everyCommands ?? 100_000) ||
      Date.now() - lastAt >= (options.everyMs ?? 60_000)
    ) {
      try {
        options.submit();
        lastSeq = options.lastSeq();
        lastAt = Date.now();
      } catch (error) {
        // The sequencer is closed (shutdown, or the batcher failed): nothing to checkpoint any more.
        options.onError?.(error as Error);
      }
    }
  };
  const timer = setInterval(() => tick(), options.checkMs ?? 1000);
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}
