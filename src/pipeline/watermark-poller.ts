/**
 * Reads the persistence workers' watermark (persistence/watermark.ts) every `everyMs` and hands it to the
 * sequencer, for load shedding on persistence lag (gateway/admission.ts) and /metrics. One read at a time;
 * a failed read keeps the last value (the database being briefly unreachable is the workers' problem to
 * report, and the lag only grows while it lasts, which shedding then bounds).
 */
import type { CommonQueryMethods } from 'slonik';
import { readWatermark } from '../../persistence/watermark.js';

export interface WatermarkPoller {
  stop(): void;
}

export function pollWatermark(
  db: CommonQueryMethods,
  onValue: (seq: number) => void,
  options: { everyMs?: number; onError?: (err: unknown) => void } = {},
): WatermarkPoller {
  let busy = false;
  const read = async () => {
    if (busy) return;
    busy = true;
    try {
      onValue(await readWatermark(db));
    } catch (err) {
      options.onError?.(err);
    } finally {
      busy = false;
    }
  };
  void read();
  const timer = setInterval(() => void read(), options.everyMs ?? 500);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
