/**
 * The operator's surface where it could hurt: nothing is sequenced while the server recovers (the command
 * would take a seq the replay is about to reuse, and vanish), and a revoked API key stops trading at once,
 * on the connections already logged in with it. Found by an adversarial probe of the operator surface.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../../src/gateway/keys.js';
import { authParams } from '../../src/protocol/sign.js';
import type { ExchangeServer } from '../../src/server.js';
import {
  admin,
  BTC,
  createInstrument,
  createTrader,
  newServer,
  RawClient,
  startServer,
  until,
} from './helpers.js';

describe('operator commands while recovering', () => {
  let server: ExchangeServer | undefined;
  afterAll(async () => server?.stop());

  it('are refused 503 UNAVAILABLE with retryAfterMs, nothing sequenced; accepted once ready', async () => {
    let finish!: (seq: number) => void;
    let recovering = false;
    server = newServer(
      {},
      {
        recover: () => {
          recovering = true;
          return new Promise<number>((r) => {
            finish = r;
          });
        },
      },
    );
    const started = server.start();
    await until(() => recovering);
    const s = server;
    const during = await admin(s, 'POST', '/v1/users', { name: 'mid-replay', email: null });
    expect(during.status).toBe(503);
    expect(during.body.error).toMatchObject({ code: 'UNAVAILABLE', data: { retryAfterMs: 1000 } });
    expect((await admin(s, 'GET', '/v1/instruments')).status).toBe(503);
    expect((await admin(s, 'POST', '/v1/api-keys', { userId: 1 })).status).toBe(503);
    // The status route answers (an operator watches recovery through it).
    expect((await admin(s, 'GET', '/v1/status')).body.status).toBe('recovering');
    expect(s.engine.lastSeq).toBe(0);
    finish(0);
    await started;
    const after = await admin(s, 'POST', '/v1/users', { name: 'after', email: null });
    expect(after.status).toBe(200);
    expect(after.body.seq).toBe(1);
  });
});

describe('API key revocation', () => {
  let server: ExchangeServer | undefined;
  afterAll(async () => server?.stop());

  it('closes the connections logged in with the key (4003), refuses it at login; an unknown key is 404', async () => {
    server = await startServer();
    await createInstrument(server);
    const alice = await createTrader(server, 'alice');
    const bob = await createTrader(server, 'bob');
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    const revoked = await admin(server, 'DELETE', `/v1/api-keys/${alice.apiKey}`);
    expect(revoked).toMatchObject({ status: 200, body: { revoked: true } });
    await a.waitClosed();
    expect(a.closed?.code).toBe(4003);
    // Bob's connection is untouched.
    expect((await b.call('ping')).result).toBeDefined();
    const again = await RawClient.connect(server);
    const login = await again.call('auth', authParams(alice.apiKey, alice.secret));
    expect(login.error.code).toBe('INVALID_SIGNATURE');
    const unknown = await admin(server, 'DELETE', '/v1/api-keys/no-such-key');
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    b.close();
    again.close();
  });
});

describe('API key revocation during a login', () => {
  let server: ExchangeServer | undefined;
  afterAll(async () => server?.stop());

  it('refuses a login whose key lookup was under way when the key was revoked', async () => {
    // A key store that answers late with the record as it was read (as a database would).
    class SlowKeys extends MemoryKeyStore {
      override async get(apiKey: string) {
        const rec = await super.get(apiKey);
        const copy = rec === undefined ? undefined : { ...rec };
        await new Promise((r) => setTimeout(r, 300));
        return copy;
      }
    }
    server = await startServer({}, { keys: new SlowKeys() });
    const alice = await createTrader(server, 'alice');
    const c = await RawClient.connect(server);
    const login = c.call('auth', authParams(alice.apiKey, alice.secret));
    await new Promise((r) => setTimeout(r, 50));
    expect((await admin(server, 'DELETE', `/v1/api-keys/${alice.apiKey}`)).status).toBe(200);
    expect((await login).error?.code).toBe('INVALID_SIGNATURE');
    c.close();
  });
});

describe('operator input the database could not store', () => {
  let server: ExchangeServer | undefined;
  afterAll(async () => server?.stop());

  it('is refused with a code instead of stopping persistence later', async () => {
    server = await startServer();
    const s = server;
    // NUL: PostgreSQL text cannot hold it, so the workers would retry that batch until they stop.
    const nul = await admin(s, 'POST', '/v1/users', { name: 'eve\u0000', email: null });
    expect(nul).toMatchObject({ status: 422, body: { error: { code: 'INVALID_COMMAND' } } });
    const nulMail = await admin(s, 'POST', '/v1/users', { name: 'eve', email: 'e\u0000@x' });
    expect(nulMail.body.error.code).toBe('INVALID_COMMAND');
    // funding_interval_seconds is an integer column: a value in microseconds by mistake does not fit.
    const big = await admin(s, 'POST', '/v1/instruments', { ...BTC, fundingIntervalSeconds: 28_800_000_000 });
    expect(big).toMatchObject({ status: 422, body: { error: { code: 'INVALID_COMMAND' } } });
    const user = await admin(s, 'POST', '/v1/users', { name: 'eve', email: null });
    const userId = user.body.events[0].userId;
    const label = await admin(s, 'POST', '/v1/api-keys', { userId, label: 'a\u0000b' });
    expect(label).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PARAMS' } } });
    const coerced = await admin(s, 'POST', '/v1/api-keys', { userId: String(userId) });
    expect(coerced).toMatchObject({ status: 400, body: { error: { code: 'INVALID_PARAMS' } } });
    expect((await admin(s, 'POST', '/v1/api-keys', { userId, label: 'ok' })).status).toBe(201);
    // Operator commands are counted with the rest (the refused ones too: they were sequenced).
    expect(s.metrics.render()).toMatch(/^exchange_commands_total\{type="create_user"\} 3$/m);
  });
});

describe('operator commands: fields', () => {
  let server: ExchangeServer | undefined;
  afterAll(async () => server?.stop());

  it('refuses a field the command does not take; open_account has defaults (the README example works)', async () => {
    server = await startServer();
    const s = server;
    const user = await admin(s, 'POST', '/v1/users', { name: 'ann', email: null });
    const userId = user.body.events[0].userId;
    const typo = await admin(s, 'POST', '/v1/accounts', {
      userId,
      currency: 'USD',
      liquidationTreshold: '0.6',
    });
    expect(typo).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_PARAMS', data: { field: 'liquidationTreshold' } } },
    });
    // README: account:open --user-id 1 --currency USD --max-leverage 20
    const opened = await admin(s, 'POST', '/v1/accounts', { userId, currency: 'USD', maxLeverage: '20' });
    expect(opened.status).toBe(200);
    expect(opened.body.events.find((e: { type: string }) => e.type === 'account')).toMatchObject({
      maxLeverage: '20',
      marginEnabled: true,
      autoLiquidation: true,
    });
  });
});
