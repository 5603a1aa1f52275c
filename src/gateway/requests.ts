/**
 * One request from text to handler: parse the envelope {id, method, params}, the login gate, params
 * validation, rate limits, then dispatch by method. Refusals that need no engine state are answered here at
 * once; a handler's Refusal (and a closed sequencer) becomes an error reply, anything else INTERNAL_ERROR.
 */
import type { Logger } from '../log.js';
import type { ErrorCode } from '../protocol/errors.js';
import type {
  AccountScoped,
  AmendParams,
  AuthParams,
  CancelAllAfterParams,
  CancelAllParams,
  CancelOnDisconnectParams,
  Method,
  PlaceBatchParams,
  PlaceParams,
  RequestId,
  SetPositionTpSlParams,
  SubscribeParams,
  UnsubscribeParams,
} from '../protocol/types.js';
import { ParamError, VALIDATORS } from '../protocol/validate.js';
import { SequencerClosedError } from '../sequencer.js';
import type { Access } from './access.js';
import type { Admission } from './admission.js';
import type { CancelAllAfter } from './cancel-all-after.js';
import type { CancelOnDisconnect } from './cancel-on-disconnect.js';
import type { Commands } from './commands.js';
import type { Queries } from './queries.js';
import { COST, costOfRequest } from './rate-limit.js';
import { idJsonOf, Refusal, type Responses, UNAVAILABLE_RETRY_MS } from './responses.js';
import type { Session } from './session.js';
import type { Subscriptions } from './subscriptions.js';

/** Public market data needs no login; `subscribe` checks auth itself for the private channel. */
const AUTH_FREE: ReadonlySet<string> = new Set(['auth', 'time', 'ping', 'subscribe', 'unsubscribe']);

/** A request envelope that could not be taken: what to answer (idJson 'null' until the id is known). */
interface BadRequest {
  idJson: string;
  code: ErrorCode;
  message: string;
}

interface Envelope {
  id: RequestId;
  idJson: string;
  method: Method;
  params: unknown;
}

/** Parses and checks the envelope: JSON object, id, known method. */
function parseEnvelope(text: string): Envelope | BadRequest {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch {
    return { idJson: 'null', code: 'PARSE_ERROR', message: 'message is not valid JSON' };
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    return {
      idJson: 'null',
      code: 'INVALID_REQUEST',
      message: 'a request is an object {id, method, params}',
    };
  }
  const r = req as { id?: unknown; method?: unknown; params?: unknown };
  const id = r.id;
  if (
    !((typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length <= 64))
  ) {
    return {
      idJson: 'null',
      code: 'INVALID_REQUEST',
      message: 'id must be an integer or a string of up to 64 characters',
    };
  }
  const idJson = idJsonOf(id);
  const method = r.method;
  if (typeof method !== 'string' || !Object.hasOwn(VALIDATORS, method)) {
    return { idJson, code: 'METHOD_NOT_FOUND', message: `unknown method ${JSON.stringify(method)}` };
  }
  return { id, idJson, method: method as Method, params: r.params };
}

export interface Handlers {
  access: Access;
  admission: Admission;
  cancelOnDisconnect: CancelOnDisconnect;
  cancelAllAfter: CancelAllAfter;
  commands: Commands;
  queries: Queries;
  subscriptions: Subscriptions;
}

export class Requests {
  constructor(
    private readonly h: Handlers,
    private readonly responses: Responses,
    private readonly log: Logger,
  ) {}

  /** One text message from a socket. */
  handle(s: Session, text: string, usIn: number): void {
    const env = parseEnvelope(text);
    if (!('method' in env)) return this.refuse(s, env.idJson, env.code, env.message, usIn);
    const { id, idJson, method: m } = env;
    if (!s.authenticated && !AUTH_FREE.has(m)) {
      return this.refuse(s, idJson, 'UNAUTHENTICATED', `${m} needs an authenticated connection (auth)`, usIn);
    }
    let params: unknown;
    try {
      params = VALIDATORS[m](env.params);
    } catch (e) {
      if (e instanceof ParamError) {
        return this.refuse(s, idJson, 'INVALID_PARAMS', e.message, usIn, {
          field: e.field,
          expected: e.expected,
        });
      }
      throw e;
    }
    const now = performance.now();
    const cost = costOfRequest(m, params);
    const limited = this.h.admission.takeConnection(s, cost, now);
    if (limited !== null)
      return this.responses.error(s, idJson, limited.code, limited.message, usIn, limited.data);
    try {
      this.dispatch(s, m, id, idJson, params, usIn, cost, now);
    } catch (e) {
      this.fail(s, idJson, m, e, usIn);
    }
  }

  /**
   * Answers a request refused for its form. It costs the connection bucket too: a client looping on a bad
   * request is slowed like any other, and once the bucket is empty it hears RATE_LIMITED instead.
   */
  private refuse(
    s: Session,
    idJson: string,
    code: ErrorCode,
    message: string,
    usIn: number,
    data?: Record<string, unknown>,
  ): void {
    const limited = this.h.admission.takeConnection(s, COST.refused, performance.now());
    if (limited !== null)
      return this.responses.error(s, idJson, limited.code, limited.message, usIn, limited.data);
    this.responses.error(s, idJson, code, message, usIn, data);
  }

  private dispatch(
    s: Session,
    m: Method,
    id: RequestId,
    idJson: string,
    params: unknown,
    usIn: number,
    cost: number,
    now: number,
  ): void {
    const h = this.h;
    if (m === 'time' || m === 'ping') return this.responses.reply(s, idJson, `{"serverTime":${usIn}}`, usIn);
    // While the engine recovers (or once shutdown began) its state is not the released one: a login would
    // read a half-replayed account list and seed views, books and snapshots from it. Nothing but the clock
    // is answered until the server opens.
    if (!h.commands.open) {
      return this.responses.error(
        s,
        idJson,
        'UNAVAILABLE',
        'the server is not open for trading (recovering or shutting down); retry',
        usIn,
        { retryAfterMs: UNAVAILABLE_RETRY_MS },
      );
    }
    switch (m) {
      case 'auth':
        return h.access.auth(s, idJson, params as AuthParams, usIn);
      case 'cancel_on_disconnect':
        return this.responses.reply(
          s,
          idJson,
          h.cancelOnDisconnect.configure(s, params as CancelOnDisconnectParams),
          usIn,
        );
      case 'subscribe':
        return h.subscriptions.subscribe(s, idJson, params as SubscribeParams, usIn);
      case 'unsubscribe':
        return h.subscriptions.unsubscribe(s, idJson, params as UnsubscribeParams, usIn);
    }
    // Everything else is account-scoped.
    const acc = h.access.account(s, (params as AccountScoped).accountId);
    h.admission.takeAccount(s, acc, cost, now);
    switch (m) {
      case 'place':
        return h.commands.place(s, id, idJson, acc, params as PlaceParams, usIn);
      case 'place_batch':
        return h.commands.placeBatch(s, id, idJson, acc, params as PlaceBatchParams, usIn);
      case 'amend':
      case 'cancel':
        return h.commands.amendOrCancel(s, id, idJson, acc, m, params as AmendParams, usIn);
      case 'cancel_all':
        return h.commands.cancelAll(s, id, idJson, acc, params as CancelAllParams, usIn);
      case 'rate_limits':
        return this.responses.reply(s, idJson, JSON.stringify(h.admission.budget(s, acc, now)), usIn);
      case 'set_position_tpsl':
        return h.commands.setPositionTpSl(s, id, idJson, acc, params as SetPositionTpSlParams, usIn);
      case 'cancel_all_after': {
        const timeoutMs = (params as CancelAllAfterParams).timeoutMs;
        const result = h.cancelAllAfter.set(acc, timeoutMs, usIn);
        return this.responses.reply(s, idJson, JSON.stringify(result), usIn);
      }
      default:
        return h.queries.query(s, idJson, acc, m, params, usIn);
    }
  }

  /** A handler threw: a refusal is answered as such, anything unexpected as INTERNAL_ERROR. */
  private fail(s: Session, idJson: string, m: Method, e: unknown, usIn: number): void {
    if (e instanceof Refusal) return this.responses.error(s, idJson, e.code, e.message, usIn, e.data);
    if (e instanceof SequencerClosedError) {
      return this.responses.error(s, idJson, 'UNAVAILABLE', 'the server is not accepting commands', usIn, {
        retryAfterMs: UNAVAILABLE_RETRY_MS,
      });
    }
    this.log.error({ err: e, method: m }, 'request failed');
    return this.responses.error(s, idJson, 'INTERNAL_ERROR', 'internal error', usIn);
  }
}
