/**
 * Command-line flags for bench parts: `--ops 1000000`, `--ops=1e6`, `--ops 1_000_000`, `--quiet`.
 *
 * Parts read the flags they know and then call `done()`, which refuses anything left over: a mistyped
 * flag must stop the run, not silently measure the default workload.
 */
/** A mistake on the command line: the dispatcher reports it and records nothing. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export class Flags {
  private readonly values = new Map<string, string | true>();
  private readonly read = new Set<string>();

  constructor(args: readonly string[]) {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (!arg.startsWith('--'))
        throw new UsageError(`unexpected argument "${arg}" (flags look like --name value)`);
      const eq = arg.indexOf('=');
      if (eq > 0) {
        this.values.set(arg.slice(2, eq), arg.slice(eq + 1));
      } else {
        const next = args[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          this.values.set(arg.slice(2), next);
          i++;
        } else {
          this.values.set(arg.slice(2), true);
        }
      }
    }
  }

  has(name: string): boolean {
    this.read.add(name);
    return this.values.has(name);
  }

  /** A number; accepts 1e6 and 1_000_000 so large op counts are easy to type. */
  num(name: string, fallback: number): number {
    this.read.add(name);
    const raw = this.values.get(name);
    if (raw === undefined) return fallback;
    const n = raw === true ? Number.NaN : Number(raw.replaceAll('_', ''));
    if (!Number.isFinite(n)) throw new UsageError(`--${name} needs a number, got "${String(raw)}"`);
    return n;
  }

  int(name: string, fallback: number, min = 0): number {
    const n = this.num(name, fallback);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${name} needs a whole number >= ${min}, got ${n}`);
    return n;
  }

  str(name: string, fallback: string): string {
    this.read.add(name);
    const raw = this.values.get(name);
    if (raw === undefined) return fallback;
    if (raw === true) throw new UsageError(`--${name} needs a value`);
    return raw;
  }

  bool(name: string): boolean {
    this.read.add(name);
    const raw = this.values.get(name);
    return raw === true || raw === 'true' || raw === '1';
  }

  /** Throws on flags no reader asked for. */
  done(): void {
    const unknown = [...this.values.keys()].filter((k) => !this.read.has(k));
    if (unknown.length > 0) {
      throw new UsageError(
        `unknown flag${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => `--${k}`).join(', ')}`,
      );
    }
  }
}
