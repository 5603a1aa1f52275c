/**
 * End-to-end helpers: a real server in-process on ephemeral ports, set up through its real admin HTTP
 * interface, and a raw WebSocket client (the `ws` package) that records every message it receives.
 */
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { type Config, loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { MemoryBatcher } from '../../src/pipeline/memory-batcher.js';
import { authParams } from '../../src/protocol/sign.js';
import { ExchangeServer, type ServerOptions } from '../../src/server.js';
import { BTC_PERP } from '../fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages, checked field by field by the tests
export type Json = any;

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

export const BTC = BTC_PERP;

/** A server on free ports with an in-memory batcher and the test admin token, not started yet. */
export function newServer(
  overrides: Partial<Config> = {},
  options: Partial<ServerOptions> = {},
): ExchangeServer {
  const config = loadConfig(
    [],
    {},
    {
      host: '127.0.0.1',
      port: 0,
      adminHost: '127.0.0.1',
      adminPort: 0,
      adminToken: ADMIN_TOKEN,
      batcher: 'memory',
      logLevel: 'silent',
      ...overrides,
    },
  );
  return new ExchangeServer({
    config,
    log: silentLogger,
    batcher: new MemoryBatcher({ mode: 'durable' }),
    ...options,
  });
}

export async function startServer(
  overrides: Partial<Config> = {},
  options: Partial<ServerOptions> = {},
): Promise<ExchangeServer> {
  const server = newServer(overrides, options);
  await server.start();
  return server;
}

export async function admin(
  server: ExchangeServer,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  token = ADMIN_TOKEN,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`http://127.0.0.1:${server.adminPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

export interface Trader {
  userId: number;
  accountId: number;
  apiKey: string;
  secret: string;
}

/** Operator flow through the admin interface: user -> account -> deposit -> API key. */
export async function createTrader(
  server: ExchangeServer,
  name: string,
  deposit = '1000000',
): Promise<Trader> {
  const u = await admin(server, 'POST', '/v1/users', { name, email: `${name}@example.com` });
  if (u.status !== 200) throw new Error(`create user: ${JSON.stringify(u.body)}`);
  const userId = u.body.events.find((e: Json) => e.type === 'user_created').userId;
  const a = await admin(server, 'POST', '/v1/accounts', {
    userId,
    currency: 'USD',
    maxLeverage: '10',
    marginEnabled: true,
    autoLiquidation: true,
  });
  if (a.status !== 200) throw new Error(`open account: ${JSON.stringify(a.body)}`);
  const accountId = a.body.events.find((e: Json) => e.type === 'account').accountId;
  const d = await admin(server, 'POST', '/v1/deposits', { accountId, amount: deposit });
  if (d.status !== 200) throw new Error(`deposit: ${JSON.stringify(d.body)}`);
  const k = await admin(server, 'POST', '/v1/api-keys', { userId, label: name });
  if (k.status !== 201) throw new Error(`api key: ${JSON.stringify(k.body)}`);
  return { userId, accountId, apiKey: k.body.apiKey, secret: k.body.secret };
}

export async function createInstrument(
  server: ExchangeServer,
  spec: Omit<typeof BTC, 'symbol' | 'baseCurrency'> & { symbol: string; baseCurrency: string } = BTC,
): Promise<void> {
  const r = await admin(server, 'POST', '/v1/instruments', spec);
  if (r.status !== 200) throw new Error(`instrument: ${JSON.stringify(r.body)}`);
}

/** What `withMarket` sets up: filled in by its beforeAll. */
export interface Market {
  server: ExchangeServer;
  traders: Record<string, Trader>;
}

/**
 * Registers, in the calling describe block, a started server (with `overrides` of the test configuration)
 * with the BTC-PERP instrument and one funded trader per name (stopped after the block). Read the fields inside tests, once beforeAll has run.
 */
export function withMarket(names: string[], overrides: Partial<Config> = {}): Market {
  const m = { traders: {} } as Market;
  beforeAll(async () => {
    m.server = await startServer(overrides);
    await createInstrument(m.server);
    for (const name of names) m.traders[name] = await createTrader(m.server, name);
  });
  afterAll(async () => m.server.stop());
  return m;
}

/** A raw protocol client: sends whatever it is given, keeps every message, awaits replies by id. */
export class RawClient {
  readonly messages: Json[] = [];
  private waiters: { pred: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  private nextId = 1;
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w();
    });
  }

  static async connect(server: ExchangeServer): Promise<RawClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  /** The first message (already received or future) matching `pred`. */
  next(pred: (m: Json) => boolean, timeoutMs = 15_000): Promise<Json> {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  /** Sends a request and resolves with its reply (result or error). */
  call(method: string, params?: unknown, id: number | string = this.nextId++): Promise<Json> {
    this.ws.send(JSON.stringify(params === undefined ? { id, method } : { id, method, params }));
    return this.next((m) => m.id === id);
  }

  async auth(t: Trader): Promise<Json> {
    const r = await this.call('auth', authParams(t.apiKey, t.secret));
    if (r.error) throw new Error(`auth failed: ${JSON.stringify(r.error)}`);
    return r;
  }

  /** Stream messages of a channel received so far. */
  stream(channel: string): Json[] {
    return this.messages.filter((m) => m.channel === channel);
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket not closed')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Resolves once `cond()` holds (checked every 5 ms); rejects after `timeoutMs`. */
export function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(t);
        reject(new Error('condition not met in time'));
      }
    }, 5);
  });
}
