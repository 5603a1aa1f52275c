/**
 * The payload of a batch job on the BullMQ queue, written by the output batcher (batcher.ts) and read by the
 * persistence workers (../../persistence/worker.ts) and anything else that reads jobs.
 *
 * Format 2 (written now): `{ v: 2, fromSeq, toSeq, mp }`, `mp` the Batch as MessagePack (msgpackr with its
 * record extension: each object shape's keys are written once per batch, not once per event) in base64.
 * BullMQ JSON-stringifies job data, so the bytes travel as a string; a base64 string costs JSON only a
 * quote scan. fromSeq and toSeq stay readable for an operator looking at the job.
 *
 * Format 1 (written by earlier versions, and maybe still in Redis): the Batch itself as the job data, with
 * no `v`. It is still read. Any other `v` is refused with an error: a worker older than its producer must
 * fail the job loudly (it is retried, then stops the worker), never skip it.
 *
 * Measured on realistic batches (.scratch-codec, bench/persistence's sweeps and the recovery tests' flow):
 * about 2.5 times smaller than JSON (1.9 kB instead of 4.7 kB a fill) and 2 to 2.5 times cheaper to decode;
 * encoding costs about what JSON.stringify did.
 *
 * A decoded batch is what JSON.parse(JSON.stringify(batch)) gives for what the engine emits: the same keys
 * in the same order, keys whose value is undefined left out, undefined in arrays as null, null as null,
 * numbers (integers past 2^32 included, as float64) and strings unchanged. Where it would differ, none of
 * which the engine emits: NaN and Infinity stay themselves (JSON makes them null), a Date stays a Date,
 * and a lone UTF-16 surrogate in a string becomes U+FFFD (as it would on its way into PostgreSQL anyway).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Batch } from './types.js';

/** What a batch job carries: the current format, or the Batch itself as earlier versions wrote it. */
export type BatchJobData = EncodedBatch | Batch;

export interface EncodedBatch {
  v: typeof BATCH_FORMAT;
  fromSeq: number;
  toSeq: number;
  /** The Batch as MessagePack (msgpackr, record extension), base64. */
  mp: string;
}

export const BATCH_FORMAT = 2;

export class BatchFormatError extends Error {
  override readonly name = 'BatchFormatError';
}

function hasUndefinedValue(object: object): boolean {
  for (const key in object) if ((object as Record<string, unknown>)[key] === undefined) return true;
  return false;
}

/**
 * Records (keys written once per shape) for every object but one holding an undefined value: records keep
 * such keys, while a plain map drops them through `skipValues`, as JSON does. The rare command with an
 * optional field set to undefined (`takeProfit: undefined`) goes that way. Each packed batch defines its own
 * records (no shared structures), so it decodes alone, in any order, in any process.
 */
const OPTIONS = {
  useRecords: (object: object) => !hasUndefinedValue(object),
  skipValues: [undefined], // in msgpackr's code (2.1.3), not in its typings
  encodeUndefinedAsNil: true,
  mapsAsObjects: true,
} as ConstructorParameters<typeof Packr>[0];
const packr = new Packr(OPTIONS);
/** Its own instance: a Packr's record table is its encoder's, not for reading other batches. */
const unpackr = new Unpackr(OPTIONS);

export function encodeBatch(batch: Batch): EncodedBatch {
  return {
    v: BATCH_FORMAT,
    fromSeq: batch.fromSeq,
    toSeq: batch.toSeq,
    mp: packr.pack(batch).toString('base64'),
  };
}

/** The Batch a job carries, whichever format wrote it. Throws BatchFormatError on anything else. */
export function decodeBatch(data: unknown, jobId?: string): Batch {
  const what = jobId === undefined ? 'batch job' : `batch job ${jobId}`;
  if (data === null || typeof data !== 'object') throw new BatchFormatError(`${what} carries no batch`);
  const v = (data as { v?: unknown }).v;
  if (v === BATCH_FORMAT) {
    const mp = (data as EncodedBatch).mp;
    if (typeof mp !== 'string') throw new BatchFormatError(`${what}: format ${v} without its payload`);
    let batch: unknown;
    try {
      batch = unpackr.unpack(Buffer.from(mp, 'base64'));
    } catch (error) {
      throw new BatchFormatError(`${what}: format ${v} payload unreadable: ${(error as Error).message}`);
    }
    if (!isBatch(batch)) throw new BatchFormatError(`${what}: format ${v} payload is not a batch`);
    return batch;
  }
  if (v === undefined) {
    // Format 1: the Batch itself.
    if (!isBatch(data)) throw new BatchFormatError(`${what} carries no batch`);
    return data;
  }
  throw new BatchFormatError(
    `${what} has batch format ${JSON.stringify(v)}, this version reads formats 1 and ${BATCH_FORMAT}: ` +
      'it was written by a newer producer; run a worker of that version',
  );
}

function isBatch(x: unknown): x is Batch {
  const b = x as Batch | null;
  return (
    b !== null &&
    typeof b === 'object' &&
    typeof b.fromSeq === 'number' &&
    typeof b.toSeq === 'number' &&
    Array.isArray(b.commands) &&
    Array.isArray(b.events)
  );
}
