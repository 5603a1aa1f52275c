/**
 * The `subscribe` and `unsubscribe` requests: which channel a name means (`private`, `book.<symbol>`,
 * `trades.<symbol>`, `ticker.<symbol>`), who may subscribe, and leaving every channel when a socket closes.
 * A session's channels are kept in `Session.channels` ("private:<accountId>" for private streams).
 */
import type { SubscribeParams, UnsubscribeParams } from '../protocol/types.js';
import type { Access } from './access.js';
import type { MarketData } from './market-data.js';
import type { PrivateStreams } from './private-streams.js';
import { Refusal, type Responses } from './responses.js';
import type { Session } from './session.js';

const PRIVATE_PREFIX = 'private:';

export class Subscriptions {
  constructor(
    private readonly access: Access,
    private readonly market: MarketData,
    private readonly privateStreams: PrivateStreams,
    private readonly responses: Responses,
  ) {}

  subscribe(s: Session, idJson: string, p: SubscribeParams, usIn: number): void {
    const ch = p.channel;
    if (ch === 'private') {
      if (!s.authenticated)
        throw new Refusal('UNAUTHENTICATED', 'the private channel needs an authenticated connection');
      this.privateStreams.subscribe(s, idJson, this.access.account(s, p.accountId), p, usIn);
      return;
    }
    const dot = ch.indexOf('.');
    const kind = dot > 0 ? ch.slice(0, dot) : '';
    const mirror = this.market.mirror(ch.slice(dot + 1));
    if (mirror === undefined || (kind !== 'book' && kind !== 'trades' && kind !== 'ticker')) {
      throw new Refusal('UNKNOWN_CHANNEL', `no channel ${JSON.stringify(ch)}`, {
        channels: ['private', 'book.<symbol>', 'trades.<symbol>', 'ticker.<symbol>'],
      });
    }
    this.responses.reply(s, idJson, JSON.stringify({ channel: ch }), usIn);
    this.market.subscribe(s, ch, kind, mirror, p.depth ?? Number.MAX_SAFE_INTEGER);
  }

  unsubscribe(s: Session, idJson: string, p: UnsubscribeParams, usIn: number): void {
    let key = p.channel;
    if (key === 'private' && !s.authenticated)
      throw new Refusal('NOT_SUBSCRIBED', 'not subscribed to "private"');
    if (key === 'private') key = `${PRIVATE_PREFIX}${this.access.account(s, p.accountId)}`;
    if (!s.channels.delete(key)) {
      throw new Refusal('NOT_SUBSCRIBED', `not subscribed to ${JSON.stringify(p.channel)}`);
    }
    this.leave(s, key);
    this.responses.reply(s, idJson, JSON.stringify({ channel: p.channel }), usIn);
  }

  /** The socket closed: out of every channel. */
  leaveAll(s: Session): void {
    for (const ch of s.channels) this.leave(s, ch);
    s.channels.clear();
  }

  private leave(s: Session, key: string): void {
    if (key.startsWith(PRIVATE_PREFIX))
      this.privateStreams.unsubscribe(s, Number(key.slice(PRIVATE_PREFIX.length)));
    else this.market.unsubscribe(s, key);
  }
}
