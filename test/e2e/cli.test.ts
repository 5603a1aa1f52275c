/** The operator CLI against a real server's admin port: the whole operator flow, then a trader logs in. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import type { ExchangeServer } from '../../src/server.js';
import { ADMIN_TOKEN, RawClient, startServer } from './helpers.js';

describe('operator CLI', () => {
  let server: ExchangeServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server.stop());

  async function cli(...argv: string[]) {
    let out = '';
    let err = '';
    const code = await runCli(argv, {
      env: { ADMIN_URL: `http://127.0.0.1:${server.adminPort}`, ADMIN_TOKEN },
      out: (s) => {
        out += s;
      },
      err: (s) => {
        err += s;
      },
    });
    return { code, body: out ? JSON.parse(out) : undefined, err };
  }

  it('creates an instrument, a user, an account, a deposit and a key; the key trades', async () => {
    const ins = await cli(
      'instrument:create',
      ...['--symbol', 'ETH-PERP', '--kind', 'PERPETUAL', '--base-currency', 'ETH', '--quote-currency', 'USD'],
      ...['--tick-size', '0.01', '--lot-size', '0.01', '--min-quantity', '0.01', '--max-quantity', '10000'],
      ...['--max-leverage', '50', '--maker-fee-rate', '0.0002', '--taker-fee-rate', '0.0005'],
      ...['--funding-interval-seconds', '28800'],
    );
    expect(ins.code).toBe(0);
    const user = await cli('user:create', '--name', 'carol');
    const userId = user.body.events[0].userId;
    const acct = await cli(
      'account:open',
      '--user-id',
      String(userId),
      '--currency',
      'USD',
      '--max-leverage',
      '5',
      '--margin-enabled',
      'true',
      '--auto-liquidation',
      'true',
    );
    const accountId = acct.body.events.find((e: { type: string }) => e.type === 'account').accountId;
    expect((await cli('deposit', '--account-id', String(accountId), '--amount', '2500.5')).code).toBe(0);
    const key = await cli('key:create', '--user-id', String(userId), '--label', 'carol-bot');
    expect(key.code).toBe(0);
    expect(key.err).toContain('shown once');
    const acc = await cli('get', `/v1/accounts/${accountId}`);
    expect(acc.body.balance).toBe('2500.5');

    const c = await RawClient.connect(server);
    await c.auth({ userId, accountId, apiKey: key.body.apiKey, secret: key.body.secret });
    const r = await c.call('place', {
      symbol: 'ETH-PERP',
      side: 'BUY',
      orderType: 'LIMIT',
      price: '10.01',
      quantity: '1',
    });
    expect(r.result.order.status).toBe('NEW');
    c.close();

    const refused = await cli('withdraw', '--account-id', String(accountId), '--amount', '999999');
    expect(refused.code).toBe(1);
    expect(refused.body.error.code).toBe('WITHDRAWAL_EXCEEDS_AVAILABLE');
  });

  it('says what is missing or unreachable instead of sending a request that cannot work', async () => {
    const noKey = await cli('key:revoke');
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/--key/);
    let err = '';
    const code = await runCli(['get', '/v1/status'], {
      env: { ADMIN_URL: 'http://127.0.0.1:9', ADMIN_TOKEN },
      out: () => {},
      err: (s) => {
        err += s;
      },
    });
    expect(code).toBe(1);
    expect(err).toContain('http://127.0.0.1:9');
  });

  it('answers 404 for an unknown user or account, and 400 for a depth that is not a number', async () => {
    expect((await cli('get', '/v1/users/999/accounts')).body.error.code).toBe('NOT_FOUND');
    expect((await cli('get', '/v1/accounts/999/orders')).body.error.code).toBe('NOT_FOUND');
    expect((await cli('get', '/v1/books/ETH-PERP?depth=ten')).body.error.code).toBe('INVALID_PARAMS');
    expect((await cli('get', '/v1/books/ETH-PERP?depth=1')).code).toBe(0);
  });

  it('refuses an admin body over 1 MiB with 413, and says the connection ends', async () => {
    const res = await fetch(`http://127.0.0.1:${server.adminPort}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(1_200_000), email: null }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MESSAGE_TOO_LARGE');
    // The next request works (a fresh connection).
    expect((await cli('get', '/v1/status')).code).toBe(0);
  });
});
