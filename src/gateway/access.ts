/**
 * Who a connection is and which accounts it may use: the `auth` request (signed API key, timestamp window,
 * nonce replay check) and the account checks every account-scoped request goes through.
 */
import type { EngineApi } from '../../engine/api.js';
import type { Logger } from '../log.js';
import { verify } from '../protocol/sign.js';
import type { AuthParams } from '../protocol/types.js';
import type { AccountView, AccountViews } from './account-view.js';
import type { KeyStore } from './keys.js';
import { NonceCache } from './nonces.js';
import type { OrderArchive } from './order-archive.js';
import type { Presence } from './presence.js';
import { Refusal, type Responses, UNAVAILABLE_RETRY_MS } from './responses.js';
import type { Session } from './session.js';

/** How long a login waits for the database to give back its accounts' recent client order ids. */
const SEED_TIMEOUT_MS = 2000;

export class Access {
  private readonly nonces: NonceCache;
  /**
   * Keys revoked while this server runs: a login whose key lookup was already under way when its key was
   * revoked would otherwise complete with the record read before.
   */
  private readonly revokedKeys = new Set<string>();

  constructor(
    private readonly engine: EngineApi,
    private readonly keys: KeyStore,
    private readonly views: AccountViews,
    private readonly responses: Responses,
    private readonly log: Logger,
    private readonly authWindowMs: number,
    private readonly archive: OrderArchive | null = null,
    private readonly presence: Presence | null = null,
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
          this.revokedKeys.has(rec.apiKey) ||
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
        this.presence?.connected(rec.userId);
        const accounts = this.accountsOf(s);
        s.defaultAccountId = accounts[0] ?? 0;
        // Views start here: live orders, final orders and fills are remembered from login on.
        const views = accounts.map((a) => this.views.open(a));
        const answer = () =>
          this.responses.reply(s, idJson, JSON.stringify({ userId: rec.userId, accountIds: accounts }), usIn);
        const seeding = this.seedFromArchive(views);
        if (seeding === null) answer();
        else void seeding.then(answer);
      },
      (err: unknown) => {
        s.authPending = false;
        this.log.error({ err }, 'key store lookup failed');
        this.responses.error(s, idJson, 'UNAVAILABLE', 'key store unavailable, retry', usIn, {
          retryAfterMs: UNAVAILABLE_RETRY_MS,
        });
      },
    );
  }

  /**
   * After a restart the views' windows of client order ids that may not be reused are empty: the first
   * login to each account reads them back from the database before it is answered, so a trader retrying
   * an order after the crash is refused rather than filled twice. A database that does not answer within
   * SEED_TIMEOUT_MS does not hold the login up (logged; the engine still refuses ids of live orders).
   */
  private seedFromArchive(views: AccountView[]): Promise<void> | null {
    const archive = this.archive;
    if (archive?.recentEnded === undefined) return null;
    const pending: Promise<void>[] = [];
    for (const v of views) {
      if (v.clientIdWindow === 0) continue;
      if (v.archiveSeeding === null) {
        v.archiveSeeding = archive.recentEnded(v.accountId, v.clientIdWindow).then(
          (orders) => v.seedEnded(orders),
          (err: unknown) => {
            this.log.warn({ err, accountId: v.accountId }, 'could not read client order ids back');
          },
        );
      }
      pending.push(v.archiveSeeding);
    }
    if (pending.length === 0) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn({ accounts: views.map((v) => v.accountId) }, 'client order ids not read back in time');
        resolve();
      }, SEED_TIMEOUT_MS);
    });
    return Promise.race([Promise.all(pending).then(() => {}), timeout]).finally(() => clearTimeout(timer));
  }

  /** An operator revoked `apiKey`: no login with it completes from now on, even one already under way. */
  keyRevoked(apiKey: string): void {
    this.revokedKeys.add(apiKey);
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
    return this.engine.accountOwner(accountId) === s.userId;
  }
}
