/**
 * BullMQ keeps jobs in Redis: a Redis that evicts keys under memory pressure silently drops batches that
 * clients were already told about. So the server and the workers refuse to start unless
 * `maxmemory-policy` is `noeviction`, and only change it themselves when configured to.
 */
import type { Redis } from 'ioredis';

export class RedisEvictionPolicyError extends Error {
  override readonly name = 'RedisEvictionPolicyError';
}

export interface RedisCheckOptions {
  /** Set the policy to noeviction (CONFIG SET) instead of refusing. Off by default: it is the operator's call. */
  fix?: boolean;
  log?: (message: string) => void;
}

/** The eviction policy as Redis reports it; INFO works even where CONFIG is disabled (managed Redis). */
export async function evictionPolicy(redis: Redis): Promise<string> {
  const info = await redis.info('memory');
  const match = /^maxmemory_policy:(\S+)/m.exec(info);
  if (match) return match[1]!;
  const [, value] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
  return value;
}

export async function ensureNoEviction(redis: Redis, options: RedisCheckOptions = {}): Promise<void> {
  const policy = await evictionPolicy(redis);
  if (policy === 'noeviction') return;
  if (options.fix) {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    options.log?.(`redis: maxmemory-policy was ${policy}, set it to noeviction`);
    return;
  }
  throw new RedisEvictionPolicyError(
    `Redis maxmemory-policy is "${policy}", but the persistence queue needs "noeviction": with any other ` +
      'policy Redis may delete queued batches under memory pressure and lose trades. Fix it with ' +
      '`redis-cli CONFIG SET maxmemory-policy noeviction` (and `maxmemory-policy noeviction` in redis.conf), ' +
      'or allow this process to set it (REDIS_FIX_EVICTION=1).',
  );
}
