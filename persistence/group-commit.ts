/**
 * Group commit in the worker: batches whose jobs arrive while earlier statements are still running are
 * written together, in one statement, when a writer slot frees up.
 *
 * Why: every statement costs a round trip and a WAL flush at commit, whatever its size. When the producer
 * is not saturated its batches are small (a millisecond of commands each), and one statement per job made
 * the worker commit-bound far below what the database can insert. The first job after a quiet spell is
 * written at once (no added latency); under load, groups grow by themselves.
 *
 * A group that fails is retried batch by batch at once, so a batch that cannot be written fails only its
 * own job, and its neighbours commit.
 */
import type { Batch } from '../src/pipeline/types.js';

export interface GroupCommitOptions {
  /** Statements in flight at once (each holds a database connection). Default 2. */
  parallel?: number;
  /** A group stops growing at this many events. Default 20,000. */
  maxEvents?: number;
}

interface Waiting {
  batch: Batch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommitter {
  private readonly waiting: Waiting[] = [];
  private running = 0;
  private readonly parallel: number;
  private readonly maxEvents: number;

  constructor(
    private readonly write: (batches: Batch[]) => Promise<unknown>,
    options: GroupCommitOptions = {},
  ) {
    this.parallel = options.parallel ?? 2;
    this.maxEvents = options.maxEvents ?? 20_000;
  }

  /** Resolves once the batch is committed (alone or with others). */
  submit(batch: Batch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.parallel && this.waiting.length > 0) {
      const group: Waiting[] = [this.waiting.shift()!];
      let events = group[0]!.batch.events.length;
      while (this.waiting.length > 0 && events + this.waiting[0]!.batch.events.length <= this.maxEvents) {
        const next = this.waiting.shift()!;
        events += next.batch.events.length;
        group.push(next);
      }
      this.running++;
      void this.run(group).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(group: Waiting[]): Promise<void> {
    try {
      await this.write(group.map((w) => w.batch));
      for (const w of group) w.resolve();
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const w of group) {
        try {
          await this.write([w.batch]);
          w.resolve();
        } catch (single) {
          w.reject(single);
        }
      }
    }
  }
}
