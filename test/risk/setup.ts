/** Shared set-up for risk tests: a harness with the risk core on and funded margin accounts. */
import type { CommandBody } from '../../engine/commands.js';
import type { AccountEvent, LedgerEvent, PositionEvent } from '../../engine/events.js';
import { BTC, Harness, ofType } from '../engine/harness.js';

/** One user, and one USD margin account per entry of `deposits`, funded with it (account ids 1..n). */
export function riskSetup(deposits: string[], extra: Partial<Record<string, unknown>> = {}): Harness {
  const h = new Harness({ risk: true });
  h.run(BTC);
  h.run({ type: 'create_user', name: 'trader', email: null });
  for (const amount of deposits) {
    const events = h.run({
      type: 'open_account',
      userId: 1,
      currency: 'USD',
      maxLeverage: '100',
      marginEnabled: true,
      autoLiquidation: true,
      ...extra,
    } as CommandBody);
    const id = ofType(events, 'account')[0].accountId;
    if (amount !== '0') h.run({ type: 'deposit', accountId: id, amount });
  }
  return h;
}

/** Opens user 1's USD insurance fund account and funds it with `amount`; returns its account id. */
export function openInsuranceFund(h: Harness, amount: string): number {
  const events = h.run({
    type: 'open_account',
    userId: 1,
    currency: 'USD',
    maxLeverage: '1',
    marginEnabled: true,
    autoLiquidation: false,
    insuranceFund: true,
  } as CommandBody);
  const id = ofType(events, 'account')[0].accountId;
  h.run({ type: 'deposit', accountId: id, amount });
  return id;
}

export const lastAccount = (h: Harness, id: number): AccountEvent =>
  ofType(h.log, 'account')
    .filter((a) => a.accountId === id)
    .at(-1)!;
export const ledgerOf = (h: Harness, id: number): LedgerEvent[] =>
  ofType(h.log, 'ledger').filter((e) => e.accountId === id);
export const lastPosition = (h: Harness, id: number): PositionEvent =>
  ofType(h.log, 'position')
    .filter((p) => p.accountId === id)
    .at(-1)!;
