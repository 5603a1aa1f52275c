/**
 * Every error code a reply can carry. Stable strings: clients switch on them, so never rename one.
 *
 * Two families share one namespace:
 * - gateway codes (below): the request never reached the engine, or the gateway refused it;
 * - engine reject reasons (engine/enums.ts REJECT_REASONS): the engine refused the command; such errors
 *   carry the engine `seq` and `ts` in `data`, because the refusal itself is journaled.
 *
 * UNKNOWN_ORDER (an engine reason) is also what the gateway answers, without involving the engine, for an
 * order of another account: existence of other accounts' orders never leaks.
 */
import { REJECT_REASONS, type RejectReason } from '../../engine/enums.js';

export const GATEWAY_ERROR_CODES = [
  /** The message is not valid JSON. */
  'PARSE_ERROR',
  /** Valid JSON, but not a request object ({id, method, params}). */
  'INVALID_REQUEST',
  'METHOD_NOT_FOUND',
  /** A parameter is missing, has the wrong type, an unknown name, or an invalid value; `data.field` names it. */
  'INVALID_PARAMS',
  /** The message exceeds the size limit (`data.limit` bytes). The connection stays open. */
  'MESSAGE_TOO_LARGE',
  /** The method needs an authenticated connection. */
  'UNAUTHENTICATED',
  /** Unknown API key or wrong signature (deliberately not told apart). */
  'INVALID_SIGNATURE',
  /** The signed timestamp is outside the accepted window (`data.windowMs`, `data.serverTimeMs`). */
  'STALE_TIMESTAMP',
  /** This nonce was already used with this key inside the window. */
  'NONCE_REUSED',
  'ALREADY_AUTHENTICATED',
  /** The account is not one of the authenticated user's. */
  'FORBIDDEN',
  /** Rate budget exhausted: `data.retryAfterMs` (null: the request costs more than the burst, split it), `data.remaining`, `data.scope` ("connection" | "account"). */
  'RATE_LIMITED',
  /** The account has `data.limit` open orders already. */
  'TOO_MANY_OPEN_ORDERS',
  'UNKNOWN_CHANNEL',
  'NOT_SUBSCRIBED',
  /**
   * The server is recovering, shutting down or has stopped accepting commands, or (order_status) the order
   * archive could not answer in time; retry later.
   */
  'UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];
export type ErrorCode = GatewayErrorCode | RejectReason;

export const ERROR_CODES: readonly ErrorCode[] = [...GATEWAY_ERROR_CODES, ...REJECT_REASONS];

const REJECT_SET: ReadonlySet<string> = new Set(REJECT_REASONS);
export function isRejectReason(code: string): code is RejectReason {
  return REJECT_SET.has(code);
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  data?: Record<string, unknown>;
}
