/**
 * A mark price whose revaluation would not fit NUMERIC(20,8) is refused: PostgreSQL would refuse every row
 * the workers write after it, and persistence would stop for everyone (found by the operator probe: a mark
 * with three zeros too many, against a 10 BTC position).
 */
import { describe, expect, test } from 'vitest';
import type { CommandBody } from '../../engine/commands.js';
import { BTC, Harness, ofType } from '../engine/harness.js';

describe('mark price bounds', () => {
  test('a mark that would overflow an unrealized PnL or an equity is refused, and changes nothing', () => {
    const h = new Harness({ risk: true });
    h.run(BTC);
    h.run({ type: 'create_user', name: 't', email: null });
    for (let i = 0; i < 2; i++) {
      h.run({
        type: 'open_account',
        userId: 1,
        currency: 'USD',
        maxLeverage: '10',
        marginEnabled: true,
        autoLiquidation: false,
      } as CommandBody);
      h.run({ type: 'deposit', accountId: i + 1, amount: '10000000' });
    }
    h.limit(2, 'SELL', '50000', '10');
    h.limit(1, 'BUY', '50000', '10');
    expect(
      ofType(h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '50100' }), 'mark_price'),
    ).toHaveLength(1);
    const state = () => JSON.stringify([h.engine.account(1), h.engine.account(2), h.engine.positions(1)]);
    const before = state();
    // 10 BTC at 501,000,000,000: a PnL of about 5e12, past NUMERIC(20,8)'s 1e12.
    const typo = h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '501000000000' });
    expect(ofType(typo, 'rejected').map((e) => e.reason)).toEqual(['PRICE_OUT_OF_RANGE']);
    expect(ofType(typo, 'mark_price')).toEqual([]);
    expect(state()).toBe(before);
    expect(h.engine.positions(1)[0]!.markPrice).toBe('50100');
    // A large mark whose amounts fit is taken.
    expect(
      ofType(h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '5000000' }), 'mark_price'),
    ).toHaveLength(1);
  });
});
