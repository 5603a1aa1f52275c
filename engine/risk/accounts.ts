/**
 * Operator commands on accounts: open, deposit, withdraw, leverage limit, status. Each refuses with a
 * reason and changes nothing, or books its change to the ledger.
 */
import type {
  Command,
  Deposit,
  OpenAccount,
  SetAccountStatus,
  SetLeverageLimit,
  Withdraw,
} from '../commands.js';
import { ACCOUNT_STATUSES } from '../enums.js';
import { isCurrency } from '../instrument.js';
import { fitsNumeric } from '../numeric.js';
import { add, neg, parseAmount, toBig } from '../units.js';
import { isPositiveId, parseLeverage } from '../validate.js';
import { Account } from './account.js';
import type { RiskCore } from './core.js';

const DEFAULT_MARGIN_CALL = 80_000_000; // 0.8
const DEFAULT_LIQUIDATION = 50_000_000; // 0.5

export function openAccount(core: RiskCore, cmd: OpenAccount & Command): void {
  if (!isPositiveId(cmd.userId) || core.engine.users.get(cmd.userId) === undefined) {
    return core.refuse(cmd, 'INVALID_COMMAND');
  }
  if (!isCurrency(cmd.currency)) return core.refuse(cmd, 'INVALID_COMMAND');
  if (typeof cmd.marginEnabled !== 'boolean' || typeof cmd.autoLiquidation !== 'boolean') {
    return core.refuse(cmd, 'INVALID_COMMAND');
  }
  const leverage = parseLeverage(cmd.maxLeverage);
  if (leverage === 0) return core.refuse(cmd, 'INVALID_LEVERAGE');
  const call =
    cmd.marginCallThreshold === undefined ? DEFAULT_MARGIN_CALL : parseAmount(cmd.marginCallThreshold);
  const liq =
    cmd.liquidationThreshold === undefined ? DEFAULT_LIQUIDATION : parseAmount(cmd.liquidationThreshold);
  // Thresholds are ratios of equity to margin used: 0 < liquidation < margin call.
  if (call === undefined || liq === undefined || liq <= 0 || call <= liq)
    return core.refuse(cmd, 'INVALID_AMOUNT');
  const fund = cmd.insuranceFund === true;
  if (cmd.insuranceFund !== undefined && typeof cmd.insuranceFund !== 'boolean') {
    return core.refuse(cmd, 'INVALID_COMMAND');
  }
  if (fund && core.insuranceFunds.has(cmd.currency)) return core.refuse(cmd, 'DUPLICATE_INSURANCE_FUND');
  const account = new Account(
    core.nextAccountId++,
    cmd.userId,
    cmd.currency,
    cmd.marginEnabled ? leverage : 1,
    cmd.marginEnabled,
    cmd.autoLiquidation,
    call,
    liq,
    fund,
    cmd.ts,
  );
  core.accounts.set(account.id, account);
  if (fund) core.insuranceFunds.set(account.currency, account);
  core.touchAccount(account);
}

/** Looks up the account a command names; refuses the command when it is missing. */
export function accountFor(core: RiskCore, cmd: Command & { accountId: number }): Account | undefined {
  const account = isPositiveId(cmd.accountId) ? core.accounts.get(cmd.accountId) : undefined;
  if (account === undefined) core.engine.reject(cmd, 'UNKNOWN_ACCOUNT', null, null);
  return account;
}

export function deposit(core: RiskCore, cmd: Deposit & Command): void {
  const account = accountFor(core, cmd);
  if (account === undefined) return;
  const amount = parseAmount(cmd.amount);
  if (amount === undefined || amount <= 0 || !fitsNumeric(toBig(add(account.balance, amount)))) {
    return core.refuse(cmd, 'INVALID_AMOUNT');
  }
  if (account.status === 'CLOSED') return core.refuse(cmd, 'ACCOUNT_NOT_ACTIVE');
  const totals = core.totalsOf(account.currency);
  totals.deposits = add(totals.deposits, amount);
  core.book(account, 'DEPOSIT', amount, null, null, null);
}

export function withdraw(core: RiskCore, cmd: Withdraw & Command): void {
  const account = accountFor(core, cmd);
  if (account === undefined) return;
  const amount = parseAmount(cmd.amount);
  if (amount === undefined || amount <= 0) return core.refuse(cmd, 'INVALID_AMOUNT');
  if (amount > account.available()) return core.refuse(cmd, 'WITHDRAWAL_EXCEEDS_AVAILABLE');
  const totals = core.totalsOf(account.currency);
  totals.withdrawals = add(totals.withdrawals, amount);
  core.book(account, 'WITHDRAWAL', neg(amount), null, null, null);
}

export function setLeverageLimit(core: RiskCore, cmd: SetLeverageLimit & Command): void {
  const account = accountFor(core, cmd);
  if (account === undefined) return;
  const leverage = parseLeverage(cmd.maxLeverage);
  if (leverage === 0 || (!account.marginEnabled && leverage !== 1))
    return core.refuse(cmd, 'INVALID_LEVERAGE');
  account.maxLeverage = leverage;
  core.touchAccount(account);
}

export function setStatus(core: RiskCore, cmd: SetAccountStatus & Command): void {
  const account = accountFor(core, cmd);
  if (account === undefined) return;
  if (!ACCOUNT_STATUSES.includes(cmd.status)) return core.refuse(cmd, 'INVALID_COMMAND');
  if (account.status === 'CLOSED') return core.refuse(cmd, 'ACCOUNT_NOT_ACTIVE');
  if (cmd.status === 'CLOSED' && account.positions.size > 0) return core.refuse(cmd, 'ACCOUNT_HAS_EXPOSURE');
  account.status = cmd.status;
  if (cmd.status !== 'ACTIVE') core.engine.cancelOrders(account.id, undefined, 'ACCOUNT_SUSPENDED');
  core.touchAccount(account);
}
