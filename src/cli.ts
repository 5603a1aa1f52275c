/**
 * Operator command line: calls the admin HTTP interface (never the trading port).
 *
 *   ADMIN_URL=http://127.0.0.1:8081 ADMIN_TOKEN=... node dist/src/cli.js <command> [--flag value ...]
 *
 *   user:create        --name alice [--email a@example.com]
 *   account:open       --user-id 1 --currency USD [--max-leverage 10] [--margin-enabled true] [--auto-liquidation true]
 *                      (the bracketed values are the defaults)
 *   key:create         --user-id 1 [--account-ids 1,2] [--label bot]      (prints the secret once)
 *   key:revoke         --key ak_...
 *   instrument:create  --symbol BTC-PERP --kind PERPETUAL --base-currency BTC --quote-currency USD --tick-size 0.5
 *                      --lot-size 0.001 --min-quantity 0.001 --max-quantity 1000 --max-leverage 100
 *                      --maker-fee-rate 0.0002 --taker-fee-rate 0.0005 --funding-interval-seconds 28800
 *   deposit | withdraw --account-id 1 --amount 1000
 *   mark               --symbol BTC-PERP --price 50000
 *   funding            --symbol BTC-PERP --rate 0.0001
 *   leverage-limit     --account-id 1 --max-leverage 20
 *   account-status     --account-id 1 --status SUSPENDED
 *   session-end | checkpoint
 *   get <path>         e.g. get /v1/accounts/1, /v1/users/1/accounts, /v1/books/BTC-PERP, /v1/status
 *
 * Decimal values stay strings all the way (never parsed into JS numbers); ids become integers.
 */

import { pathToFileURL } from 'node:url';

const ROUTE_OF: Record<string, string> = {
  'user:create': 'users',
  'account:open': 'accounts',
  'instrument:create': 'instruments',
  deposit: 'deposits',
  withdraw: 'withdrawals',
  mark: 'mark-prices',
  funding: 'funding',
  'leverage-limit': 'leverage-limits',
  'account-status': 'account-status',
  'session-end': 'session-end',
  checkpoint: 'checkpoints',
};

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Flags to a JSON body: ids and second counts as integers, true/false as booleans, the rest as strings. */
export function bodyFromFlags(args: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const key = camel(a.slice(2));
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${a} needs a value`);
    i++;
    if (key === 'accountIds') body[key] = value.split(',').map((v) => Number(v));
    else if (/(Id|Seconds)$/.test(key)) {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new Error(`${a} needs an integer`);
      body[key] = n;
    } else if (value === 'true' || value === 'false') body[key] = value === 'true';
    else body[key] = value;
  }
  return body;
}

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
}

const processIo: CliIo = {
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** Runs one CLI command; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  const base = io.env.ADMIN_URL ?? 'http://127.0.0.1:8081';
  const token = io.env.ADMIN_TOKEN;
  if (command === undefined || command === '--help' || command === 'help') {
    io.out(
      `usage: cli <command> [--flag value ...]; commands: ${[...Object.keys(ROUTE_OF), 'key:create', 'key:revoke', 'get'].join(', ')}\n`,
    );
    return command === undefined ? 2 : 0;
  }
  if (!token) {
    io.err('ADMIN_TOKEN is not set (the server logs a generated one at start when it has none)\n');
    return 2;
  }
  let method = 'POST';
  let path: string;
  let body: Record<string, unknown> | undefined;
  if (command === 'get') {
    method = 'GET';
    path = rest[0] ?? '/v1/status';
  } else if (command === 'key:create') {
    path = '/v1/api-keys';
    body = bodyFromFlags(rest);
  } else if (command === 'key:revoke') {
    method = 'DELETE';
    const b = bodyFromFlags(rest);
    if (typeof b.key !== 'string' || b.key === '') {
      io.err('key:revoke needs --key ak_...\n');
      return 2;
    }
    path = `/v1/api-keys/${encodeURIComponent(b.key)}`;
  } else {
    const route = ROUTE_OF[command];
    if (route === undefined) {
      io.err(`unknown command "${command}"\n`);
      return 2;
    }
    path = `/v1/${route}`;
    body = bodyFromFlags(rest);
    if (command === 'user:create' && body.email === undefined) body.email = null;
  }
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    io.err(
      `the admin interface at ${base} did not answer (${cause}); is the server running, and ADMIN_URL right?\n`,
    );
    return 1;
  }
  const text = await res.text();
  io.out(`${text}\n`);
  if (command === 'key:create' && res.ok) io.err('The secret above is shown once: store it now.\n');
  return res.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
