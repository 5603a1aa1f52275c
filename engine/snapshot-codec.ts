/**
 * The byte layout under engine snapshots: LEB128 varints for whole numbers (most engine numbers are small
 * ids, ticks and lots: one to three bytes each instead of eight), length-prefixed UTF-8 strings, and an
 * inline symbol table for the short vocabulary strings (statuses, sides, currencies) that repeat on every
 * order. Numbers are checked on the way in: a value that is not a safe integer throws rather than being
 * silently mis-encoded.
 */
import { fromBig, type Units } from './units.js';

/** Call sites that may memoise (symAt, bigAt): slots 0 .. MEMO_SLOTS - 1. */
export const MEMO_SLOTS = 16;

/**
 * Writes `n`, a whole number in [0, 2^32), as a varint at `p` of `b`; returns the position after it. For hot
 * encoders that keep the buffer and position in locals (ByteWriter.reserve); the caller guarantees the range
 * (putU checks it) and the room (5 bytes).
 */
export function putU32(b: Uint8Array, p: number, n: number): number {
  while (n >= 0x80) {
    b[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  b[p++] = n;
  return p;
}

/** putU32 for any non-negative safe integer (10 bytes of room); anything else throws. */
export function putU(b: Uint8Array, p: number, n: number): number {
  if (n >>> 0 === n) return putU32(b, p, n);
  // [2^32, 2^53) (timestamps in microseconds): the low 28 bits as four 7-bit groups, then the rest (below
  // 2^25) as a uint32. Kept inline, with no call a double would be boxed for.
  if (n > 0xffffffff && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n) {
    const hi = Math.floor(n / 0x10000000);
    const lo = n - hi * 0x10000000;
    b[p] = (lo & 0x7f) | 0x80;
    b[p + 1] = ((lo >>> 7) & 0x7f) | 0x80;
    b[p + 2] = ((lo >>> 14) & 0x7f) | 0x80;
    b[p + 3] = ((lo >>> 21) & 0x7f) | 0x80;
    return putU32(b, p + 4, hi);
  }
  throw new RangeError(`snapshot: not a whole number >= 0: ${n}`);
}

export class ByteWriter {
  private buf: Buffer;
  /** Where the next byte goes. Hot encoders move it themselves after writing into reserve()'s buffer. */
  pos = 0;
  private readonly symbols = new Map<string, number>();
  /**
   * Per call site (symAt/bigAt `slot`): the last value written there and its encoded number. Readable so
   * a hot encoder can test for a repeat inline; only symAt/bigAt write them.
   */
  readonly symMemo: (string | null)[] = [];
  readonly symCode: number[] = [];
  readonly bigMemo: (Units | null)[] = [];
  readonly bigTag: number[] = [];

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    for (let i = 0; i < MEMO_SLOTS; i++) {
      this.symMemo.push(null);
      this.symCode.push(0);
      this.bigMemo.push(null);
      this.bigTag.push(0);
    }
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + need));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u32(n: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(4);
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4;
  }

  /**
   * Room for `n` more bytes: returns the buffer to write into from `pos` (valid until the next call that
   * may grow it: any write method or reserve).
   */
  reserve(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) this.grow(n);
    return this.buf;
  }

  /** A non-negative safe integer. */
  u(n: number): void {
    if (this.pos + 10 > this.buf.length) this.grow(10);
    this.pos = putU(this.buf, this.pos, n);
  }

  /** A signed safe integer below 2^52 in magnitude (zigzag). */
  i(n: number): void {
    this.u(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  /** null or a non-negative safe integer. */
  nu(n: number | null): void {
    this.u(n === null ? 0 : n + 1);
  }

  bool(v: boolean): void {
    this.byte(v ? 1 : 0);
  }

  /** Any whole amount: small ones as an even zigzag varint, others (odd tag) as decimal text. */
  big(v: Units): void {
    if (v === 0 || v === 0n) {
      this.byte(0);
      return;
    }
    // Number(v) is exact below 2^53; the range check also rejects every rounded (larger) value.
    const n = typeof v === 'number' ? v : Number(v);
    if (n < 0x8000000000000 && n > -0x8000000000000) {
      this.u((n >= 0 ? n * 2 : -n * 2 - 1) * 2);
    } else {
      this.u(1);
      this.str(v.toString());
    }
  }

  /**
   * big(v) for a field that mostly repeats (fee rates, reservations of same-sized orders): `slot` names the
   * call site, which remembers its last value and that value's tag, sparing the bigint-to-number conversion.
   */
  bigAt(v: Units, slot: number): void {
    if (v === this.bigMemo[slot]) {
      this.u(this.bigTag[slot]);
      return;
    }
    if (v === 0 || v === 0n) {
      this.byte(0);
      return;
    }
    const n = typeof v === 'number' ? v : Number(v);
    if (n < 0x8000000000000 && n > -0x8000000000000) {
      const tag = (n >= 0 ? n * 2 : -n * 2 - 1) * 2;
      this.bigMemo[slot] = v;
      this.bigTag[slot] = tag;
      this.u(tag);
      return;
    }
    this.big(v);
  }

  /** big() of a whole number >= 0 held as a number (a value that is not one throws). */
  bigNum(n: number): void {
    if (n >>> 0 === n || (n >= 0 && n < 0x8000000000000 && Number.isSafeInteger(n))) this.u(n * 4);
    else if (n >= 0 && Number.isSafeInteger(n)) this.big(BigInt(n));
    else throw new RangeError(`snapshot: not a whole number >= 0: ${n}`);
  }

  private byte(b: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** Writes `len` bytes of `s`: short ASCII by hand (a native call per short string costs more). */
  private chars(s: string, len: number): void {
    if (this.pos + len > this.buf.length) this.grow(len);
    if (len === s.length && len <= 64) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
      this.pos = p;
      return;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private static byteLength(s: string): number {
    const n = s.length;
    if (n <= 64) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return n;
    }
    return Buffer.byteLength(s, 'utf8');
  }

  str(s: string): void {
    const len = ByteWriter.byteLength(s);
    this.u(len);
    this.chars(s, len);
  }

  nstr(s: string | null): void {
    if (s === null) {
      this.byte(0);
      return;
    }
    const len = ByteWriter.byteLength(s);
    this.u(len + 1);
    this.chars(s, len);
  }

  /** A repeating vocabulary string: written once, then referred to by number. */
  sym(s: string): void {
    this.nsym(s);
  }

  nsym(s: string | null): void {
    if (s === null) {
      this.u(0);
      return;
    }
    const k = this.symbols.get(s);
    if (k !== undefined) {
      this.u(k + 2);
      return;
    }
    this.symbols.set(s, this.symbols.size);
    this.u(1);
    this.str(s);
  }

  /**
   * nsym(s) for a field that mostly repeats (side, type, status): `slot` names the call site, which
   * remembers its last string and that string's code, sparing the symbol table lookup.
   */
  symAt(s: string | null, slot: number): void {
    if (s === this.symMemo[slot] && s !== null) {
      this.u(this.symCode[slot]);
      return;
    }
    this.nsym(s);
    if (s !== null) {
      this.symMemo[slot] = s;
      this.symCode[slot] = (this.symbols.get(s) as number) + 2;
    }
  }

  /** The bytes written (a view, not a copy). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export class ByteReader {
  /** The bytes, and where the next read starts: hot decoders read single-byte values inline. */
  readonly buf: Buffer;
  pos = 0;
  /** The symbol table so far (symbol k is written as k + 2). */
  readonly symbols: string[] = [];
  private lastBigTag = -1;
  private lastBig = 0n;
  /** Per call site (bigAt `slot`): the last tag read there and its value. */
  private readonly bigTags: number[] = [];
  private readonly bigVals: bigint[] = [];

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  atEnd(): boolean {
    return this.pos === this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('snapshot: unexpected end of data');
  }

  u32(): number {
    this.need(4);
    const n = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return n;
  }

  u(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= b.length) throw new RangeError('snapshot: unexpected end of data');
    let byte = b[p++];
    if (byte < 0x80) {
      this.pos = p;
      return byte;
    }
    let result = byte & 0x7f;
    let mul = 128;
    for (;;) {
      if (p >= b.length) throw new RangeError('snapshot: unexpected end of data');
      byte = b[p++];
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) break;
      mul *= 128;
      if (mul > 2 ** 56) throw new RangeError('snapshot: varint too long');
    }
    this.pos = p;
    return result;
  }

  i(): number {
    const z = this.u();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  nu(): number | null {
    const n = this.u();
    return n === 0 ? null : n - 1;
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] === 1;
  }

  big(): bigint {
    const t = this.u();
    if (t === 0) return 0n;
    if (t % 2 === 1) return BigInt(this.str());
    // Amounts repeat (fee rates, reservations of same-sized orders): reuse the last BigInt made.
    if (t === this.lastBigTag) return this.lastBig;
    const v = BigInt(smallOf(t));
    this.lastBigTag = t;
    this.lastBig = v;
    return v;
  }

  /** big() as Units: a number while the value is a safe integer (most amounts), a bigint only beyond. */
  units(): Units {
    const t = this.u();
    if (t === 0) return 0;
    if (t % 2 === 1) return fromBig(BigInt(this.str()));
    return smallOf(t);
  }

  /**
   * big() for a field that mostly repeats: `slot` names the call site, which keeps its own last value, so
   * fields read in turn (an order's fee rate, then its reservation) do not evict each other's.
   */
  bigAt(slot: number): bigint {
    const p = this.pos;
    const t = this.u();
    if (t === 0) return 0n;
    if (t === this.bigTags[slot]) return this.bigVals[slot];
    this.pos = p;
    const v = this.big();
    if (t % 2 === 0) {
      while (this.bigTags.length <= slot) {
        this.bigTags.push(-1);
        this.bigVals.push(0n);
      }
      this.bigTags[slot] = t;
      this.bigVals[slot] = v;
    }
    return v;
  }

  private text(len: number): string {
    this.need(len);
    const b = this.buf;
    const start = this.pos;
    this.pos += len;
    if (len <= 32) {
      let s = '';
      for (let i = start; i < start + len; i++) {
        const c = b[i];
        if (c >= 0x80) return b.toString('utf8', start, start + len);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString('utf8', start, start + len);
  }

  str(): string {
    return this.text(this.u());
  }

  nstr(): string | null {
    const len = this.u();
    return len === 0 ? null : this.text(len - 1);
  }

  sym(): string {
    const s = this.nsym();
    if (s === null) throw new Error('snapshot: a required symbol is null');
    return s;
  }

  nsym(): string | null {
    const k = this.u();
    if (k === 0) return null;
    if (k === 1) {
      const s = this.str();
      this.symbols.push(s);
      return s;
    }
    const s = this.symbols[k - 2];
    if (s === undefined) throw new Error(`snapshot: unknown symbol ${k - 2}`);
    return s;
  }
}

/** The value of an amount's even tag (big/bigAt): a zigzag varint, doubled. */
function smallOf(tag: number): number {
  const z = tag / 2;
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}
