/**
 * A progress display for long parts. It writes to stderr only, so stdout stays a clean, parseable record.
 * On a terminal it redraws one line; in a log (CI, a pipe) it prints a line at most every few seconds, so
 * logs stay short. `BENCH_QUIET=1` silences it.
 */
const quiet = process.env.BENCH_QUIET === '1';
const tty = process.stderr.isTTY === true;
const LOG_INTERVAL_MS = 5_000;
const TTY_INTERVAL_MS = 100;

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private last = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'ops',
  ) {}

  /** Cheap enough to call per chunk of work; draws only when the interval has passed. */
  update(done: number, note = ''): void {
    if (quiet) return;
    const now = Date.now();
    if (now - this.lastDraw < (tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS) && done < this.total) return;
    if (done === this.last && !note) return; // already drawn (e.g. the final update, then done())
    this.last = done;
    this.lastDraw = now;
    const pct = this.total > 0 ? Math.min(100, (done / this.total) * 100) : 100;
    const secs = (now - this.started) / 1000;
    const line = `${this.label}: ${pct.toFixed(0).padStart(3)}% ${fmt(done)}/${fmt(this.total)} ${this.unit} ${secs.toFixed(1)}s${note ? ` ${note}` : ''}`;
    if (tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      process.stderr.write(`${line}\n`);
    }
  }

  done(note = ''): void {
    if (quiet) return;
    this.lastDraw = 0;
    this.update(this.total, note);
    if (tty && this.drawn) process.stderr.write('\n');
  }
}

/** A one-line status message on stderr (phase changes), kept out of stdout. */
export function status(message: string): void {
  if (!quiet) process.stderr.write(`${message}\n`);
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n % 1e6 === 0 ? 0 : 2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n % 1e3 === 0 ? 0 : 1)}k`;
  return String(n);
}
