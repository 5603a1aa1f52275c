/**
 * Request signing, shared by the client (which signs) and the gateway (which verifies).
 *
 * The signed payload is `timestamp \n nonce \n apiKey` (timestamp in milliseconds, as decimal digits).
 * The HMAC key is not the secret itself but SHA-256(secret): the server stores only that hash, so the
 * secret shown once at key creation never rests on the server. (The hash is enough to sign, so the key
 * store still has to be protected like a secret: see docs/protocol.md, "Authentication".)
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What the server stores for a key: hex SHA-256 of the secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function signingPayload(timestamp: number, nonce: string, apiKey: string): string {
  return `${timestamp}\n${nonce}\n${apiKey}`;
}

/** hex HMAC-SHA256 keyed by the secret's hash. */
export function signWithHash(secretHash: string, timestamp: number, nonce: string, apiKey: string): string {
  return createHmac('sha256', Buffer.from(secretHash, 'hex'))
    .update(signingPayload(timestamp, nonce, apiKey), 'utf8')
    .digest('hex');
}

/** Client side: signs with the secret it was given. */
export function sign(secret: string, timestamp: number, nonce: string, apiKey: string): string {
  return signWithHash(hashSecret(secret), timestamp, nonce, apiKey);
}

/** Constant-time comparison, so a wrong signature's timing tells nothing about the right one. */
export function verify(
  secretHash: string,
  timestamp: number,
  nonce: string,
  apiKey: string,
  signature: string,
): boolean {
  if (typeof signature !== 'string' || signature.length !== 64) return false;
  const expected = Buffer.from(signWithHash(secretHash, timestamp, nonce, apiKey), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function newNonce(): string {
  return randomBytes(12).toString('hex');
}

/** Signed auth parameters, ready to send as the `auth` method's params. */
export function authParams(apiKey: string, secret: string, nowMs: number = Date.now()) {
  const nonce = newNonce();
  return { apiKey, timestamp: nowMs, nonce, signature: sign(secret, nowMs, nonce, apiKey) };
}
