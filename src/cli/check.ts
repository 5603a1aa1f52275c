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
import { parseArgs } from 'node:util';
import { createDatabasePool } from '../../persistence/db.js';
import { redactUrl } from '../config.js';
import { checkDatabase } from '../recovery/compare.js';
import { RecoveryError } from '../recovery/errors.js';

export interface CheckCliResult {
  code: number;
  lines: string[];
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'database-url': { type: 'string' },
      'from-snapshot': { type: 'boolean' },
      'no-risk': { type: 'boolean' },
      'max-listed': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  }).values;
}

export async function runCheck(argv: readonly string[], env = process.env): Promise<CheckCliResult> {
  const usage = (error: string): CheckCliResult => ({
    code: 2,
    lines: [JSON.stringify({ ok: false, error: `usage: ${error}` })],
  });
  // Strict: an unknown or misspelt flag (--from-snaphot) is an error, never a silently different check.
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    return usage((error as Error).message);
  }
  const url = flags['database-url'] ?? env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/exchange';
  const maxListed = Number(flags['max-listed'] ?? '1000');
  if (!Number.isSafeInteger(maxListed) || maxListed < 0)
    return usage(`--max-listed needs a whole number, got "${flags['max-listed']}"`);
  const quiet = flags.quiet === true;
  const database = redactUrl(url);
  const lines: string[] = [];
  const pool = await createDatabasePool(url, {
    applicationName: 'exchange-check',
    statementTimeout: 600_000,
  });
  try {
    const r = await checkDatabase({
      pool,
      fromSnapshot: flags['from-snapshot'] === true,
      risk: flags['no-risk'] !== true,
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
        database,
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
        database,
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
