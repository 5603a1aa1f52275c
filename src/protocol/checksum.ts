/**
 * The book checksum carried by every `book.<symbol>` message: a client that applied the message compares
 * it with its own, so a level applied wrongly (a missed "0", a price compared as a float, a level kept past
 * a cut snapshot) shows at once instead of as a stale book.
 *
 * The string hashed: the best CHECKSUM_LEVELS bids, best first, as `price:quantity` joined by `,`; then
 * `|`; then the best CHECKSUM_LEVELS asks the same way. Prices and quantities exactly as the messages carry
 * them. An empty book is the string "|". The checksum is the CRC-32 (IEEE 802.3, as zlib's crc32) of that
 * string's bytes (ASCII), an unsigned 32-bit integer.
 */
import type { Level } from './types.js';

export const CHECKSUM_LEVELS = 10;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of an ASCII string. */
export function crc32(s: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) c = TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The checksum of a book given its best levels per side, best first (only the first CHECKSUM_LEVELS count). */
export function bookChecksum(bids: readonly Level[], asks: readonly Level[]): number {
  return crc32(`${side(bids)}|${side(asks)}`);
}

function side(levels: readonly Level[]): string {
  const n = Math.min(CHECKSUM_LEVELS, levels.length);
  let s = '';
  for (let i = 0; i < n; i++) s += `${i === 0 ? '' : ','}${levels[i]![0]}:${levels[i]![1]}`;
  return s;
}
