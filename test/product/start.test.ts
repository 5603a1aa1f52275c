/**
 * The product as a newcomer runs it: `npm start` on a fresh database, an order placed through the typed
 * client, a graceful stop (SIGTERM), and `npm start` again: the order is still resting, with the same id.
 * Real processes, real PostgreSQL and Redis, no in-process shortcuts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { ExchangeClient } from '../../src/client/index.js';
import { BTC_PERP } from '../fixtures.js';
import { freePort } from '../free-port.js';

const suffix = randomBytes(4).toString('hex');
const DB = `exchange_product_${suffix}`;
const TOKEN = `product-test-${suffix}`;
const ROOT = new URL('../..', import.meta.url).pathname;

interface Running {
  child: ChildProcess;
  output: string[];
}

/** `npm start` with this test's database, queue and ports; resolves once /health says ready. */
async function start(port: number, adminPort: number): Promise<Running> {
  // Database and queue as flags, over decoy environment values: what the server resolves must reach the
  // workers it forks too (they once read only the environment, and persisted nothing).
  const flags = [
    '--database-url',
    `postgres://postgres@127.0.0.1:5432/${DB}`,
    '--queue-name',
    `product-${suffix}`,
  ];
  const child = spawn('npm', ['start', '--', ...flags], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${DB}_decoy`,
      QUEUE_NAME: `product-${suffix}-decoy`,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d) => output.push(String(d)));
  child.stderr!.on('data', (d) => output.push(String(d)));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output.join('')}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.ok && ((await r.json()) as { status?: string }).status === 'ready') return { child, output };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`not ready in time:\n${output.join('')}`);
}

/**
 * SIGTERM to the server process, as an orchestrator sends it; its pid is in its own log lines (pino). npm,
 * its parent, then exits with the server's exit code.
 */
async function stop(r: Running): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => r.child.once('exit', (code) => resolve(code)));
  const ready = r.output
    .join('')
    .split('\n')
    .find((l) => l.includes('ready for trading'));
  const pid = ready === undefined ? undefined : (JSON.parse(ready) as { pid: number }).pid;
  if (pid === undefined) throw new Error(`no server pid in the log:\n${r.output.join('')}`);
  process.kill(pid, 'SIGTERM');
  return exited;
}

async function admin(adminPort: number, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const running: Running[] = [];

afterAll(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await client.end();
});

describe('the product, started as the README says', () => {
  test('npm start, place an order, stop gracefully, npm start again: the order is still resting', async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const first = await start(port, adminPort);
    running.push(first);

    type Events = { events: { type: string; [k: string]: unknown }[] };
    const user = (await admin(adminPort, '/v1/users', { name: 'newcomer', email: null })) as Events;
    const userId = user.events.find((e) => e.type === 'user_created')!.userId as number;
    await admin(adminPort, '/v1/instruments', BTC_PERP);
    const account = (await admin(adminPort, '/v1/accounts', {
      userId,
      currency: 'USD',
      maxLeverage: '10',
      marginEnabled: true,
      autoLiquidation: true,
    })) as Events;
    const accountId = account.events.find((e) => e.type === 'account')!.accountId as number;
    await admin(adminPort, '/v1/deposits', { accountId, amount: '10000' });
    const key = (await admin(adminPort, '/v1/api-keys', { userId, label: 'newcomer' })) as {
      apiKey: string;
      secret: string;
    };

    const url = `ws://127.0.0.1:${port}/ws`;
    const client = new ExchangeClient({ url, apiKey: key.apiKey, secret: key.secret, reconnect: false });
    await client.connect();
    const placed = await client.place({
      symbol: 'BTC-PERP',
      side: 'BUY',
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      price: '50000',
      quantity: '0.01',
      clientOrderId: 'still-here',
    });
    const orderId = (placed as { order: { orderId: number } }).order.orderId;
    expect((placed as { order: { status: string } }).order.status).toBe('NEW');
    client.close();

    // Operators' view: the workers' watermark reaches the engine's seq in /metrics (nothing waits in Redis),
    // the replica follows the journal, and npm start ran the workers with their V8 flags.
    const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    for (let i = 0; ; i++) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const engineSeq = gauge(text, 'exchange_engine_seq');
      if (engineSeq > 0 && gauge(text, 'exchange_persisted_seq') === engineSeq) {
        expect(gauge(text, 'exchange_persist_lag_commands')).toBe(0);
        break;
      }
      if (i > 200) throw new Error(`the watermark did not reach the engine's seq:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(first.output.join('')).toContain('replica following the journal');
    expect(first.output.join('')).not.toContain('worker runs without its V8 flags');

    expect(await stop(first)).toBe(0);
    expect(first.output.join('')).toContain('"msg":"stopped"');

    const second = await start(port, adminPort);
    running.push(second);
    const again = new ExchangeClient({ url, apiKey: key.apiKey, secret: key.secret, reconnect: false });
    await again.connect();
    const open = (await again.openOrders({ symbol: 'BTC-PERP' })) as {
      orders: {
        orderId: number;
        clientOrderId: string;
        status: string;
        remainingQuantity: string;
        price: string;
      }[];
    };
    expect(open.orders).toEqual([
      expect.objectContaining({
        orderId,
        clientOrderId: 'still-here',
        status: 'NEW',
        remainingQuantity: '0.01',
        price: '50000',
      }),
    ]);
    again.close();
    expect(await stop(second)).toBe(0);
  }, 300_000);
});
