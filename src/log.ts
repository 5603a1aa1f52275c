/**
 * Structured logs (pino, JSON lines on stdout). Nothing per order is logged at info: the hot path logs only
 * at debug/trace, behind `logger.isLevelEnabled` checks where building the line would cost anything.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level = 'info', name = 'exchange'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/** A logger that drops everything: tests and benchmarks that must not print. */
export const silentLogger: Logger = pino({ level: 'silent' });
