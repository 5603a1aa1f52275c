/** Why recovery refused to open for trading, with the seq it concerns, for logs, health and operators. */
export type RecoveryFailure =
  | 'journal_gap'
  | 'hash_mismatch'
  | 'queue_failed'
  | 'queue_timeout'
  | 'orphan_batches'
  | 'snapshot_invalid'
  | 'engine_not_fresh';

export class RecoveryError extends Error {
  override readonly name = 'RecoveryError';
  constructor(
    readonly reason: RecoveryFailure,
    /** The seq the failure concerns (the missing seq, the seq whose hash differs, ...). */
    readonly seq: number,
    message: string,
  ) {
    super(message);
  }
}
