/**
 * Offline consistency check of an exchange database:
 *
 *   node dist/src/cli/check.js [--database-url URL] [--from-snapshot] [--no-risk] [--max-listed N] [--quiet]
 *
 * Replays the persisted command journal (from scratch, or from the newest snapshot) up to the persisted
 * watermark and compares the result with the tables: accounts (balances), positions, orders (the open ones
 * are the book), trades, ledger rows and the ledger chains, and every persisted state hash in range.
 * Prints every difference (up to --max-listed; the count is always exact) and a JSON summary as the last
 * line. Exit code 0: no difference; 1: differences; 2: the check could not run (e.g. a journal gap).
 * Run it against a stopped system (or a copy): rows still being written show up as differences.
 *
 * DATABASE_URL is used when --database-url is not given.
 */
import { pathToFileURL } from 'node:url';
import { createDatabasePool } from '../../persistence/db.js';
import { checkDatabase } from '../recovery/compare.js';
import { RecoveryError } from '../recovery/errors.js';

export interface CheckCliResult {
  code: number;
  lines: string[];
}

export async function runCheck(argv: readonly string[], env = process.env): Promise<CheckCliResult> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const url = arg('--database-url') ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/exchange';
  const maxListed = Number(arg('--max-listed') ?? '1000');
  const quiet = argv.includes('--quiet');
  const lines: string[] = [];
  const pool = await createDatabasePool(url, {
    applicationName: 'exchange-check',
    statementTimeout: 600_000,
  });
  try {
    const r = await checkDatabase({
      pool,
      fromSnapshot: argv.includes('--from-snapshot'),
      risk: !argv.includes('--no-risk'),
      maxListed,
      onProgress: quiet
        ? undefined
        : (seq, target) => process.stderr.write(`check: replayed ${seq}/${target}\r`),
    });
    for (const d of r.differences) lines.push(`DIFF ${d}`);
    if (r.differenceCount > r.differences.length) {
      lines.push(`... ${r.differenceCount - r.differences.length} more differences not listed`);
    }
    lines.push(
      JSON.stringify({
        ok: r.differenceCount === 0,
        watermark: r.watermark,
        snapshotSeq: r.snapshotSeq,
        hashesChecked: r.hashesChecked,
        compared: r.compared,
        differences: r.differenceCount,
        stateHash: r.engine.stateHash(),
      }),
    );
    return { code: r.differenceCount === 0 ? 0 : 1, lines };
  } catch (error) {
    const e = error as Error;
    lines.push(
      JSON.stringify({
        ok: false,
        error: e.message,
        ...(e instanceof RecoveryError ? { reason: e.reason, seq: e.seq } : {}),
      }),
    );
    return { code: 2, lines };
  } finally {
    await pool.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCheck(process.argv.slice(2)).then(
    ({ code, lines }) => {
      for (const l of lines) process.stdout.write(`${l}\n`);
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`check: ${String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
