/** The engine's public surface: the contract (commands, events, enums) and the Engine itself. */
export type { BookLevel, BookSnapshot, EngineApi, EngineOptions } from './api.js';
export * from './commands.js';
export { Engine } from './engine.js';
export * from './enums.js';
export type * from './events.js';
export { divRound, formatUnits, mulUnits, parseUnits, SCALE, UNIT } from './numeric.js';
