/**
 * Operator functions: everything a trader must never be able to do (users, accounts, instruments, money in
 * and out, mark prices, funding, session end, API keys). Commands go through the same sequencer as orders,
 * so they are journaled and replayed like everything else; the answer waits for output commit.
 */

import type { EngineApi } from '../../engine/api.js';
import type { CommandBody, CommandType } from '../../engine/commands.js';
import { OPERATOR_COMMANDS } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';
import type { KeyStore } from '../gateway/keys.js';
import { UNAVAILABLE_RETRY_MS } from '../gateway/responses.js';
import type { Metrics } from '../http/metrics.js';
import type { Sequencer } from '../sequencer.js';

export class OperatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 422,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface CommandResult {
  seq: number;
  ts: number;
  events: EngineEvent[];
}

type OperatorBody<T extends CommandType> = Extract<CommandBody, { type: T }>;

/**
 * The fields each operator command takes (besides `type`). Anything else is refused: a misspelt optional
 * field (`liquidationTreshold`) would otherwise be journaled and ignored, leaving its default in force.
 */
const FIELDS: { [T in CommandType]?: readonly Exclude<keyof OperatorBody<T>, 'type'>[] } = {
  create_user: ['name', 'email'],
  create_instrument: [
    'symbol',
    'kind',
    'baseCurrency',
    'quoteCurrency',
    'tickSize',
    'lotSize',
    'minQuantity',
    'maxQuantity',
    'maxLeverage',
    'makerFeeRate',
    'takerFeeRate',
    'fundingIntervalSeconds',
  ],
  open_account: [
    'userId',
    'currency',
    'maxLeverage',
    'marginEnabled',
    'autoLiquidation',
    'marginCallThreshold',
    'liquidationThreshold',
    'insuranceFund',
  ],
  deposit: ['accountId', 'amount'],
  withdraw: ['accountId', 'amount'],
  set_leverage_limit: ['accountId', 'maxLeverage'],
  set_account_status: ['accountId', 'status'],
  mark_price: ['symbol', 'price'],
  funding: ['symbol', 'rate'],
  session_end: [],
  checkpoint: [],
};

/** What an operator may leave out of open_account: a margin account at 10x that liquidates itself. */
const OPEN_ACCOUNT_DEFAULTS = { maxLeverage: '10', marginEnabled: true, autoLiquidation: true };

/** URL path segment -> command type, for the admin HTTP interface and the CLI. */
export const ROUTES: Record<string, CommandType> = {
  users: 'create_user',
  accounts: 'open_account',
  instruments: 'create_instrument',
  deposits: 'deposit',
  withdrawals: 'withdraw',
  'leverage-limits': 'set_leverage_limit',
  'account-status': 'set_account_status',
  'mark-prices': 'mark_price',
  funding: 'funding',
  'session-end': 'session_end',
  checkpoints: 'checkpoint',
};

export class Operator {
  /**
   * False until recovery is done (set by the server): a command sequenced while the journal is still being
   * replayed would take a seq recovery is about to reuse, and its reads see a half-replayed engine.
   */
  open = false;
  private readonly revokeListeners: ((apiKey: string) => void)[] = [];

  constructor(
    readonly engine: EngineApi,
    private readonly sequencer: Sequencer,
    readonly keys: KeyStore,
    /** exchange_commands_total counts operator commands too. */
    private readonly metrics: Metrics | null = null,
  ) {}

  /** Refuses (503, retryAfterMs) while the server is not open: recovering, or shutting down. */
  checkOpen(): void {
    if (!this.open) {
      throw new OperatorError(
        'UNAVAILABLE',
        'the server is not open (recovering or shutting down): retry once /health says ready',
        503,
        { retryAfterMs: UNAVAILABLE_RETRY_MS },
      );
    }
  }

  /** Called with the key of every revocation (the gateway closes that key's connections). */
  onRevoke(listener: (apiKey: string) => void): void {
    this.revokeListeners.push(listener);
  }

  /** Revokes a key; its open connections are closed at once. NOT_FOUND for a key that does not exist. */
  async revokeApiKey(apiKey: string): Promise<{ revoked: true }> {
    this.checkOpen();
    if (!(await this.keys.revoke(apiKey))) throw new OperatorError('NOT_FOUND', 'no such API key', 404);
    for (const l of this.revokeListeners) l(apiKey);
    return { revoked: true };
  }

  /** Applies one operator command and resolves with its events once they are released. */
  async command(body: Record<string, unknown>): Promise<CommandResult> {
    const type = body.type as CommandType;
    if (typeof type !== 'string' || !OPERATOR_COMMANDS.has(type)) {
      throw new OperatorError(
        'INVALID_COMMAND',
        `not an operator command: ${JSON.stringify(body.type)}`,
        400,
      );
    }
    // seq and ts are the sequencer's to stamp, never the caller's.
    const { seq: _s, ts: _t, ...given } = body;
    const allowed = FIELDS[type] as readonly string[] | undefined;
    for (const key of Object.keys(given)) {
      if (key !== 'type' && allowed !== undefined && !allowed.includes(key)) {
        throw new OperatorError('INVALID_PARAMS', `${type} has no field "${key}"`, 400, {
          field: key,
          expected: allowed,
        });
      }
    }
    const rest = type === 'open_account' ? { ...OPEN_ACCOUNT_DEFAULTS, ...given } : given;
    this.checkOpen();
    if (!this.sequencer.accepting) throw new OperatorError('UNAVAILABLE', 'not accepting commands', 503);
    const r = this.sequencer.submitAndRead(rest as unknown as CommandBody);
    this.metrics?.commands.inc(type);
    await this.sequencer.whenReleased(r.seq);
    const rejected = r.events.find((e) => e.type === 'rejected');
    if (rejected !== undefined && rejected.type === 'rejected') {
      throw new OperatorError(rejected.reason, `refused by the engine: ${rejected.reason}`, 422, {
        seq: r.seq,
      });
    }
    return r;
  }

  async createApiKey(userId: number, accountIds: number[], label: string) {
    this.checkOpen();
    if (!Number.isSafeInteger(userId) || this.engine.user(userId) === undefined) {
      throw new OperatorError('UNKNOWN_USER', `no user ${userId}`, 404);
    }
    for (const a of accountIds) {
      const acc = this.engine.account(a);
      // With the risk core off there are no account records to check against; the key is trusted as given.
      if (acc !== undefined && acc.userId !== userId) {
        throw new OperatorError('FORBIDDEN', `account ${a} does not belong to user ${userId}`, 422);
      }
    }
    const k = await this.keys.create(userId, accountIds, label);
    return { apiKey: k.record.apiKey, secret: k.secret, userId, accountIds: k.record.accountIds, label };
  }
}
