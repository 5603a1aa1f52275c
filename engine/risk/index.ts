/** The risk core's entry point (see core.ts and docs/risk.md). */
import type { Engine } from '../engine.js';
import { RiskCore } from './core.js';

export type { CurrencyTotals } from './core.js';
export { RiskCore } from './core.js';

export function createRisk(engine: Engine): RiskCore {
  return new RiskCore(engine);
}
