/**
 * Answers that must not run ahead of output commit: a query (or a private subscription) is answered from the
 * gateway's released state only once the engine seq current at the request is released, so a client reads
 * its own writes and never anything unreleased. Waiting answers run from each released batch.
 */
import type { Sequencer } from '../sequencer.js';
import { type Responses, UNAVAILABLE_RETRY_MS } from './responses.js';
import type { Session } from './session.js';

interface Deferred {
  seq: number;
  run: () => void;
  /** Who waits, so a dead batcher can still answer them. */
  session: Session;
  idJson: string;
  usIn: number;
}

export class Deferrals {
  private waiting: Deferred[] = [];
  /** The batcher gave up: nothing more will be released. */
  private failed = false;

  constructor(
    private readonly sequencer: Sequencer,
    private readonly responses: Responses,
  ) {}

  /** Runs `run` once `seq` is released (at once if it is). */
  defer(session: Session, idJson: string, usIn: number, seq: number, run: () => void): void {
    if (seq <= this.sequencer.releasedSeq) run();
    else if (this.failed)
      this.responses.error(session, idJson, 'UNAVAILABLE', 'the server stopped taking commands', usIn, {
        retryAfterMs: UNAVAILABLE_RETRY_MS,
      });
    else this.waiting.push({ seq, run, session, idJson, usIn });
  }

  /** A batch up to `toSeq` was released: runs whatever waited for it. */
  runDue(toSeq: number): void {
    if (this.waiting.length === 0) return;
    const due = this.waiting;
    this.waiting = [];
    for (const d of due) {
      if (d.seq <= toSeq) d.run();
      else this.waiting.push(d);
    }
  }

  /** What is not released now never will be: refuse what waits, and later requests that would wait. */
  failAll(): void {
    this.failed = true;
    for (const d of this.waiting) {
      if (!d.session.closed)
        this.responses.error(
          d.session,
          d.idJson,
          'UNAVAILABLE',
          'the server stopped taking commands',
          d.usIn,
          { retryAfterMs: UNAVAILABLE_RETRY_MS },
        );
    }
    this.waiting = [];
  }
}
