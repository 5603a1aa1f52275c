/**
 * The admin HTTP interface: a separate port, bound to localhost by default, bearer-token authenticated.
 * Traders' connections (the WebSocket port) have no route to any of this.
 *
 *   POST   /v1/<route>        an operator command; route in operator.ts ROUTES (users, accounts, deposits...)
 *   POST   /v1/api-keys       {userId, accountIds?, label?} -> {apiKey, secret} (the secret is shown once)
 *   DELETE /v1/api-keys/<key>
 *   GET    /v1/users/<id>, /v1/users/<id>/accounts, /v1/accounts/<id>, /v1/accounts/<id>/positions,
 *          /v1/accounts/<id>/orders, /v1/instruments, /v1/books/<symbol>, /v1/status
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { type Operator, OperatorError, ROUTES } from './operator.js';

const MAX_BODY = 1 << 20;

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  // Refused before a byte is read when the client says how big it is.
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY)
    throw new OperatorError('MESSAGE_TOO_LARGE', 'body over 1 MiB', 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new OperatorError('MESSAGE_TOO_LARGE', 'body over 1 MiB', 413);
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch {
    throw new OperatorError('PARSE_ERROR', 'body is not a JSON object', 400);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(s),
  };
  // The rest of a refused body is never read: say the connection ends, so a keep-alive client does not
  // send its next request on a socket the server is about to drop.
  if (status === 413) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(s);
}

export class AdminServer {
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly op: Operator,
    private readonly token: string,
    private readonly log: Logger,
    private readonly status: () => Record<string, unknown>,
  ) {}

  listen(host: string, port: number): Promise<number> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof OperatorError) {
          send(res, err.status, { error: { code: err.code, message: err.message, data: err.data } });
        } else {
          this.log.error({ err }, 'admin request failed');
          send(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
        }
      });
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => {
        const a = this.server!.address();
        this.port = typeof a === 'object' && a !== null ? a.port : port;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server === null) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!tokenMatches(req.headers.authorization, this.token)) {
      throw new OperatorError('UNAUTHENTICATED', 'missing or wrong admin bearer token', 401);
    }
    const url = new URL(req.url ?? '/', 'http://admin');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v1') throw new OperatorError('NOT_FOUND', 'no such route', 404);
    const [, a, b, c] = parts;
    const engine = this.op.engine;
    const id = (v: string | undefined) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n <= 0)
        throw new OperatorError('INVALID_PARAMS', `not an id: ${v}`, 400);
      return n;
    };
    const found = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new OperatorError('NOT_FOUND', `no ${what}`, 404);
      return v;
    };
    if (req.method === 'GET' && a === 'status') return send(res, 200, this.status());
    // Everything else reads or changes the engine, which is not the released state until recovery is done.
    this.op.checkOpen();
    if (req.method === 'GET') {
      if (a === 'instruments' && b === undefined) return send(res, 200, engine.instruments());
      if (a === 'users' && b !== undefined && c === undefined)
        return send(res, 200, found(engine.user(id(b)), 'user'));
      if (a === 'users' && c === 'accounts') {
        found(engine.user(id(b)), 'user');
        return send(res, 200, engine.accountsOfUser(id(b)));
      }
      if (a === 'users' && c === 'api-keys') {
        const keys = await this.op.keys.list(id(b));
        return send(
          res,
          200,
          keys.map(({ secretHash: _h, ...k }) => k),
        );
      }
      if (a === 'accounts' && c === undefined) return send(res, 200, found(engine.account(id(b)), 'account'));
      if (a === 'accounts' && (c === 'positions' || c === 'orders')) {
        // An unknown account is 404, as for /v1/accounts/:id, not an empty list (without the risk core there
        // are no account records: an id with orders is known).
        const acc = id(b);
        if (engine.account(acc) === undefined && engine.openOrders(acc).length === 0)
          found(undefined, 'account');
        return send(res, 200, c === 'positions' ? engine.positions(acc) : engine.openOrders(acc));
      }
      if (a === 'books' && b !== undefined) {
        const depth = Number(url.searchParams.get('depth') ?? '50');
        if (!Number.isSafeInteger(depth) || depth < 1)
          throw new OperatorError(
            'INVALID_PARAMS',
            `depth: a whole number >= 1, got "${url.searchParams.get('depth')}"`,
            400,
          );
        return send(res, 200, found(engine.book(b, depth), 'instrument'));
      }
      throw new OperatorError('NOT_FOUND', 'no such route', 404);
    }
    if (req.method === 'DELETE' && a === 'api-keys' && b !== undefined) {
      return send(res, 200, await this.op.revokeApiKey(b));
    }
    if (req.method !== 'POST') throw new OperatorError('NOT_FOUND', 'no such route', 404);
    const body = await readJson(req);
    if (a === 'api-keys') {
      const accountIds = body.accountIds ?? [];
      if (!Array.isArray(accountIds) || !accountIds.every((x) => Number.isSafeInteger(x) && x > 0)) {
        throw new OperatorError('INVALID_PARAMS', 'accountIds: an array of account ids', 400);
      }
      const label = body.label ?? '';
      if (typeof label !== 'string' || label.length > 200 || label.includes('\u0000')) {
        throw new OperatorError(
          'INVALID_PARAMS',
          'label: a string of at most 200 characters, without NUL',
          400,
        );
      }
      if (!Number.isSafeInteger(body.userId))
        throw new OperatorError('INVALID_PARAMS', 'userId: an integer', 400);
      return send(res, 201, await this.op.createApiKey(body.userId as number, accountIds as number[], label));
    }
    const type = a === undefined ? undefined : ROUTES[a];
    if (type === undefined || b !== undefined) throw new OperatorError('NOT_FOUND', 'no such route', 404);
    const r = await this.op.command({ ...body, type });
    this.log.info({ command: type, seq: r.seq }, 'operator command');
    return send(res, 200, { seq: r.seq, ts: r.ts, events: r.events });
  }
}
