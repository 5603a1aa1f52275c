/**
 * Who a connection is and which accounts it may use: the `auth` request (signed API key, timestamp window,
 * nonce replay check) and the account checks every account-scoped request goes through.
 */
import type { EngineApi } from '../../engine/api.js';
import type { Logger } from '../log.js';
import { verify } from '../protocol/sign.js';
import type { AuthParams } from '../protocol/types.js';
import type { AccountViews } from './account-view.js';
import type { KeyStore } from './keys.js';
import { NonceCache } from './nonces.js';
import { Refusal, type Responses } from './responses.js';
import type { Session } from './session.js';

export class Access {
  private readonly nonces: NonceCache;

  constructor(
    private readonly engine: EngineApi,
    private readonly keys: KeyStore,
    private readonly views: AccountViews,
    private readonly responses: Responses,
    private readonly log: Logger,
    private readonly authWindowMs: number,
  ) {
    this.nonces = new NonceCache(authWindowMs);
  }

  /** `auth`: checks the timestamp now, the key and signature once the key store answers. */
  auth(s: Session, idJson: string, p: AuthParams, usIn: number): void {
    if (s.authenticated || s.authPending) {
      return this.responses.error(
        s,
        idJson,
        'ALREADY_AUTHENTICATED',
        'this connection is authenticated already',
        usIn,
      );
    }
    const nowMs = Date.now();
    if (Math.abs(nowMs - p.timestamp) > this.authWindowMs) {
      return this.responses.error(
        s,
        idJson,
        'STALE_TIMESTAMP',
        'timestamp outside the accepted window',
        usIn,
        {
          serverTimeMs: nowMs,
          windowMs: this.authWindowMs,
        },
      );
    }
    s.authPending = true;
    this.keys.get(p.apiKey).then(
      (rec) => {
        s.authPending = false;
        if (s.closed) return;
        if (
          rec === undefined ||
          rec.revokedAt !== null ||
          !verify(rec.secretHash, p.timestamp, p.nonce, p.apiKey, p.signature)
        ) {
          return this.responses.error(
            s,
            idJson,
            'INVALID_SIGNATURE',
            'unknown API key or wrong signature',
            usIn,
          );
        }
        // Recorded only after the signature checks out: nobody can burn another key's nonces.
        if (!this.nonces.use(p.apiKey, p.nonce, Date.now())) {
          return this.responses.error(s, idJson, 'NONCE_REUSED', 'nonce already used with this key', usIn);
        }
        s.key = rec;
        s.userId = rec.userId;
        const accounts = this.accountsOf(s);
        s.defaultAccountId = accounts[0] ?? 0;
        // Views start here: live orders, final orders and fills are remembered from login on.
        for (const a of accounts) this.views.open(a);
        this.responses.reply(s, idJson, JSON.stringify({ userId: rec.userId, accountIds: accounts }), usIn);
      },
      (err: unknown) => {
        s.authPending = false;
        this.log.error({ err }, 'key store lookup failed');
        this.responses.error(s, idJson, 'UNAVAILABLE', 'key store unavailable, retry', usIn);
      },
    );
  }

  /** The accounts a session may use: the key's, or (key unrestricted) all of its user's. */
  accountsOf(s: Session): number[] {
    const k = s.key!;
    if (k.accountIds.length > 0) return k.accountIds;
    return this.engine.accountsOfUser(s.userId).map((a) => a.accountId);
  }

  /** The account a request acts on (its own, else the session's default); refused if not accessible. */
  account(s: Session, requested: number | undefined): number {
    const acc = requested ?? s.defaultAccountId;
    if (acc === 0) throw new Refusal('FORBIDDEN', 'this key has no account; pass accountId');
    if (!this.allowed(s, acc))
      throw new Refusal('FORBIDDEN', `account ${acc} is not accessible with this key`);
    return acc;
  }

  private allowed(s: Session, accountId: number): boolean {
    const k = s.key!;
    if (k.accountIds.length > 0) return k.accountIds.includes(accountId);
    return this.engine.account(accountId)?.userId === s.userId;
  }
}
