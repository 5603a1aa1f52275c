/**
 * The typed client's connection lifecycle: exactly one live socket at a time, a stale socket's events
 * ignored, requests held until a reconnect's re-authentication and resubscription are done, a failed
 * handshake closing its socket and backing off, and close() stopping reconnects for good.
 *
 * Two servers: the real one (startServer) where its behaviour is enough, and a tiny scripted `ws` server
 * where the test needs exact control (a refused resubscribe, a delayed handshake).
 */
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { bookChecksum, ExchangeClient, type ExchangeError } from '../../src/client/index.js';
import type { ExchangeServer } from '../../src/server.js';
import { createTrader, startServer, type Trader, until as untilHolds } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This file's waits are shorter than the other client tests'. */
const until = (cond: () => boolean, timeoutMs = 10_000) => untilHolds(cond, timeoutMs);

interface Req {
  id: number;
  method: string;
  params?: Record<string, unknown>;
}
type Reply = { result: unknown } | { error: { code: string; message: string } } | null;

/**
 * A scripted protocol server. `answer(conn, req)` is the reply to a request on the conn-th connection
 * (1-based), null for none; `delayUpgrade(conn)` delays accepting that connection's handshake.
 */
class ScriptedServer {
  readonly wss: WebSocketServer;
  connections = 0;
  live = 0;
  readonly sockets: WebSocket[] = [];
  readonly requests: { conn: number; req: Req }[] = [];
  answer: (conn: number, req: Req) => Reply | Promise<Reply> = () => ({ result: {} });
  delayUpgrade: (conn: number) => number = () => 0;
  upgrades = 0;

  constructor() {
    this.wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (_info, done) => {
        const ms = this.delayUpgrade(++this.upgrades);
        if (ms > 0) setTimeout(() => done(true), ms);
        else done(true);
      },
    });
    this.wss.on('connection', (ws) => {
      const conn = ++this.connections;
      this.live++;
      this.sockets.push(ws);
      ws.on('close', () => this.live--);
      ws.on('message', async (data) => {
        const req = JSON.parse(data.toString()) as Req;
        this.requests.push({ conn, req });
        const reply = await this.answer(conn, req);
        if (reply !== null && ws.readyState === WebSocket.OPEN)
          ws.send(JSON.stringify({ id: req.id, ...reply }));
      });
    });
  }

  static async start(): Promise<ScriptedServer> {
    const s = new ScriptedServer();
    await new Promise<void>((resolve) => s.wss.once('listening', () => resolve()));
    return s;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }

  methods(conn: number): string[] {
    return this.requests.filter((r) => r.conn === conn).map((r) => r.req.method);
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

const AUTH_OK = { result: { userId: 7, accountIds: [70] } };

/** The `ws` WebSocket, but its close event reaches the client `ms` late (a slow network, a busy loop). */
function lateCloseSocket(ms: number) {
  const onclose = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onclose')!;
  return class LateClose extends WebSocket {
    constructor(url: string) {
      super(url);
      Object.defineProperty(this, 'onclose', {
        get: () => onclose.get!.call(this),
        set: (fn: ((ev: unknown) => void) | null) =>
          onclose.set!.call(this, fn === null ? null : (ev: unknown) => setTimeout(() => fn(ev), ms)),
      });
    }
  };
}

describe('typed client: reconnect against a scripted server', () => {
  let srv: ScriptedServer;
  const clients: ExchangeClient[] = [];
  const client = (extra: Partial<ConstructorParameters<typeof ExchangeClient>[0]> = {}) => {
    const c = new ExchangeClient({ url: srv.url, apiKey: 'k', secret: 's', backoffInitialMs: 40, ...extra });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    srv = await ScriptedServer.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const ws of srv.wss.clients) ws.terminate();
    await until(() => srv.live === 0);
    srv.connections = 0;
    srv.upgrades = 0;
    srv.sockets.length = 0;
    srv.requests.length = 0;
    srv.answer = () => ({ result: {} });
    srv.delayUpgrade = () => 0;
  });
  afterAll(async () => srv.stop());

  it('a refused resubscribe closes that socket and backs off: one live socket at a time', async () => {
    srv.answer = (conn, req) => {
      if (req.method === 'auth') return AUTH_OK;
      if (req.method === 'subscribe' && conn === 2)
        return { error: { code: 'UNAVAILABLE', message: 'recovering' } };
      return { result: {} };
    };
    const c = client();
    const events: string[] = [];
    c.on('reconnected', () => events.push('reconnected'));
    c.on('error', (e) => events.push(`error ${(e as ExchangeError).code}`));
    await c.connect();
    await c.subscribeTrades('BTC-PERP', () => {});
    srv.sockets[0]!.close(4000, 'test');
    await until(() => events.includes('reconnected'));
    await sleep(300);
    expect(srv.connections).toBe(3);
    expect(srv.methods(2)).toEqual(['auth', 'subscribe']);
    expect(srv.methods(3)).toEqual(['auth', 'subscribe']);
    expect(events).toEqual(['error UNAVAILABLE', 'reconnected']);
    expect(srv.live).toBe(1);
    expect(c.connected).toBe(true);
    expect((await c.ping()) as unknown).toEqual({});
  });

  it('a refused re-authentication closes that socket and backs off', async () => {
    srv.answer = (conn, req) => {
      if (req.method === 'auth' && (conn === 2 || conn === 3))
        return { error: { code: 'STALE_TIMESTAMP', message: 'clock' } };
      return req.method === 'auth' ? AUTH_OK : { result: {} };
    };
    const c = client();
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    srv.sockets[0]!.close(4000, 'test');
    await until(() => reconnected === 1);
    await sleep(300);
    expect(srv.connections).toBe(4);
    expect(srv.live).toBe(1);
    expect(reconnected).toBe(1);
    expect(c.connected).toBe(true);
  });

  it('a stale socket’s late close is ignored: no extra reconnect, no rejected requests on the new one', async () => {
    srv.answer = (_conn, req) => {
      if (req.method === 'auth') return AUTH_OK;
      // A slow answer, still in flight when the old socket's close arrives.
      if (req.method === 'ping') return sleep(300).then(() => ({ result: { serverTime: 1 } }));
      return { result: {} };
    };
    const c = client({ WebSocket: lateCloseSocket(150) as never });
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    c.close();
    await c.connect();
    const ping = c.ping();
    expect(await ping).toEqual({ serverTime: 1 });
    await sleep(300);
    expect(reconnected).toBe(0);
    expect(srv.connections).toBe(2);
    expect(srv.live).toBe(1);
    expect(c.connected).toBe(true);
  });

  it('a subscription the server refused is not restored after a reconnect', async () => {
    srv.answer = (_conn, req) => {
      if (req.method === 'auth') return AUTH_OK;
      if (req.method === 'subscribe' && req.params?.channel === 'trades.NOPE')
        return { error: { code: 'UNKNOWN_CHANNEL', message: 'no such channel' } };
      return { result: {} };
    };
    const c = client();
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    await c.subscribeTicker('BTC-PERP', () => {});
    const err = await c.subscribeTrades('NOPE', () => {}).catch((e: ExchangeError) => e);
    expect(err).toMatchObject({ code: 'UNKNOWN_CHANNEL' });
    srv.sockets[0]!.close(4000, 'test');
    await until(() => reconnected === 1);
    expect(srv.connections).toBe(2);
    expect(srv.requests.filter((r) => r.conn === 2).map((r) => r.req.params?.channel)).toEqual([
      undefined,
      'ticker.BTC-PERP',
    ]);
  });

  it('close() during a reconnect attempt stops reconnecting for good', async () => {
    srv.answer = (_conn, req) => (req.method === 'auth' ? AUTH_OK : { result: {} });
    srv.delayUpgrade = (conn) => (conn === 2 ? 200 : 0);
    const c = client();
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    srv.sockets[0]!.close(4000, 'test');
    // The second connection's handshake is held by the server: close while it is under way.
    await until(() => srv.connections === 1 && srv.live === 0);
    await sleep(100);
    c.close();
    await sleep(600);
    expect(reconnected).toBe(0);
    expect(c.connected).toBe(false);
    expect(srv.live).toBe(0);
    expect(srv.connections).toBeLessThanOrEqual(2);
  });

  it('close() while the re-authentication is in flight stops reconnecting for good', async () => {
    srv.answer = (conn, req) => {
      if (req.method === 'auth') return conn === 2 ? sleep(200).then(() => AUTH_OK) : AUTH_OK;
      return { result: {} };
    };
    const c = client();
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    srv.sockets[0]!.close(4000, 'test');
    await until(() => srv.methods(2).includes('auth'));
    c.close();
    await sleep(600);
    expect(reconnected).toBe(0);
    expect(c.connected).toBe(false);
    expect(srv.live).toBe(0);
    expect(srv.connections).toBe(2);
  });

  it('a request made while reconnecting is held until the re-authentication and resubscription are done', async () => {
    let authAt = 0;
    srv.answer = (conn, req) => {
      if (req.method === 'auth') {
        if (conn === 2) authAt = srv.requests.length;
        return conn === 2 ? sleep(150).then(() => AUTH_OK) : AUTH_OK;
      }
      return { result: {} };
    };
    const c = client();
    const order: string[] = [];
    c.on('reconnected', () => order.push('reconnected'));
    await c.connect();
    await c.subscribeTicker('BTC-PERP', () => {});
    let held: Promise<unknown> | undefined;
    let connectedAtOpen: boolean | undefined;
    c.on('open', () => {
      connectedAtOpen = c.connected;
      held = c.ping().then(() => order.push('ping answered'));
    });
    srv.sockets[0]!.close(4000, 'test');
    await until(() => held !== undefined);
    await held;
    expect(srv.methods(2)).toEqual(['auth', 'subscribe', 'ping']);
    expect(connectedAtOpen).toBe(false);
    expect(authAt).toBeGreaterThan(0);
    expect(order).toEqual(['reconnected', 'ping answered']);
  });
  it('a delta that leaves the book off its checksum is not shown: gap, then a fresh snapshot', async () => {
    const ch = 'book.BTC-PERP';
    const snapshot = (seq: number, bids: [string, string][]) => ({
      channel: ch,
      type: 'snapshot',
      symbol: 'BTC-PERP',
      seq,
      engineSeq: seq,
      bids,
      asks: [],
      checksum: bookChecksum(bids, []),
    });
    let subscribes = 0;
    srv.answer = (conn, req) => {
      if (req.method === 'auth') return AUTH_OK;
      if (req.method === 'subscribe') {
        const ws = srv.sockets[conn - 1]!;
        const n = ++subscribes;
        setTimeout(() => {
          if (n === 1) {
            ws.send(JSON.stringify(snapshot(1, [['100', '1']])));
            // The delta says 99 was added, but its checksum is of a book where 100 also went: one of the
            // two is wrong, and the client cannot tell which.
            const delta = {
              channel: ch,
              type: 'delta',
              symbol: 'BTC-PERP',
              seq: 2,
              prevSeq: 1,
              engineSeq: 2,
            };
            ws.send(
              JSON.stringify({
                ...delta,
                ts: 1,
                bids: [['99', '1']],
                asks: [],
                checksum: bookChecksum([['99', '1']], []),
              }),
            );
          } else ws.send(JSON.stringify(snapshot(2, [['99', '1']])));
        }, 10);
      }
      return { result: { channel: ch } };
    };
    const c = client();
    const gaps: unknown[] = [];
    c.on('gap', (g) => gaps.push(g));
    const seen: string[] = [];
    await c.connect();
    const book = await c.subscribeBook('BTC-PERP', (b, m) =>
      seen.push(`${m.type} ${b.levels('BUY').join(' ')}`),
    );
    await until(() => subscribes === 2 && book.seq === 2 && book.levels('BUY').length === 1);
    expect(seen).toEqual(['snapshot 100,1', 'snapshot 99,1']);
    expect(gaps).toEqual([
      {
        channel: ch,
        seq: 2,
        checksum: {
          expected: bookChecksum([['99', '1']], []),
          got: bookChecksum(
            [
              ['100', '1'],
              ['99', '1'],
            ],
            [],
          ),
        },
      },
    ]);
  });
});

describe('typed client: reconnect against the real server', () => {
  let server: ExchangeServer;
  let alice: Trader;
  let url: string;
  beforeAll(async () => {
    server = await startServer();
    alice = await createTrader(server, 'alice');
    url = `ws://127.0.0.1:${server.port}/ws`;
  });
  afterAll(async () => server.stop());

  it('after a server-side close, requests made before re-authentication are not refused UNAUTHENTICATED', async () => {
    const c = new ExchangeClient({ url, apiKey: alice.apiKey, secret: alice.secret, backoffInitialMs: 20 });
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    await c.subscribePrivate(() => {});
    const results: unknown[] = [];
    const connectedAtOpen: boolean[] = [];
    c.on('open', () => {
      connectedAtOpen.push(c.connected);
      // Right at the open, before the client's own auth went out.
      results.push(c.openOrders().catch((e: ExchangeError) => e.code));
    });
    for (const s of server.gateway.sessions) s.close(4000, 'test');
    await until(() => reconnected === 1 && results.length === 1);
    expect(await results[0]).toMatchObject({ orders: [] });
    expect(connectedAtOpen).toEqual([false]);
    expect(server.gateway.sessions.size).toBe(1);
    c.close();
    await until(() => server.gateway.sessions.size === 0);
  });

  it('a stale socket closing late does not open a second connection', async () => {
    const c = new ExchangeClient({
      url,
      apiKey: alice.apiKey,
      secret: alice.secret,
      backoffInitialMs: 20,
      WebSocket: lateCloseSocket(150) as never,
    });
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    c.close();
    await c.connect();
    await sleep(400);
    expect(reconnected).toBe(0);
    expect(server.gateway.sessions.size).toBe(1);
    expect(c.connected).toBe(true);
    expect((await c.account()).account.accountId).toBe(alice.accountId);
    c.close();
    await until(() => server.gateway.sessions.size === 0);
  });
});
