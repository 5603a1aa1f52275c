/**
 * The risk core's entry point. (Placeholder until the risk core lands: admits everything, settles nothing.)
 */
import type { Engine } from '../engine.js';
import type { RiskPort } from '../risk-port.js';

export function createRisk(_engine: Engine): RiskPort | null {
  return null;
}
