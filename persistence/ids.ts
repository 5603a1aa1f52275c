/**
 * Deterministic, reversible UUIDs for the engine's integer ids.
 *
 * The engine numbers every entity with positive integers from counters in its state, so a replay produces the
 * same numbers; the schema wants UUID keys. The mapping is a fixed UUIDv8 layout:
 *
 *   ec5e0000-KKKK-8000-8NNN-NNNNNNNNNNNN
 *
 * `ec5e0000` marks the exchange's ids, KKKK is the entity kind (hex), `8` is the version nibble, the next `8`
 * carries the RFC 9562 variant bits, and the 15 hex digits N are the integer (60 bits, more than the 53 a
 * safe integer needs). Within one kind the UUIDs sort like the integers. sql/ has the same function in SQL
 * (exch_uuid / exch_uuid_id), kept identical by a test.
 */

export const ENTITY_KINDS = {
  user: 1,
  instrument: 2,
  account: 3,
  order: 4,
  /** The maker's row of a fill in `trades`. */
  tradeMaker: 5,
  /** The taker's row of a fill in `trades`. */
  tradeTaker: 6,
  position: 7,
  ledger: 8,
} as const;
export type EntityKind = keyof typeof ENTITY_KINDS;

const PREFIX = 'ec5e0000-';
const ZEROS = '000000000000000';

const kindHex = new Map<number, EntityKind>();
const kindPrefix = {} as Record<EntityKind, string>;
for (const [name, code] of Object.entries(ENTITY_KINDS) as [EntityKind, number][]) {
  kindHex.set(code, name);
  kindPrefix[name] = `${PREFIX}${code.toString(16).padStart(4, '0')}-8000-8`;
}

export function toUuid(kind: EntityKind, id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`not a positive safe integer id: ${id}`);
  const hex = id.toString(16);
  const digits = ZEROS.slice(hex.length) + hex;
  return `${kindPrefix[kind]}${digits.slice(0, 3)}-${digits.slice(3)}`;
}

const LAYOUT = /^ec5e0000-([0-9a-f]{4})-8000-8([0-9a-f]{3})-([0-9a-f]{12})$/;

export function fromUuid(uuid: string): { kind: EntityKind; id: number } {
  const m = LAYOUT.exec(uuid.toLowerCase());
  const kind = m ? kindHex.get(Number.parseInt(m[1]!, 16)) : undefined;
  if (!m || !kind) throw new RangeError(`not an exchange id: ${uuid}`);
  const id = Number.parseInt(m[2]! + m[3]!, 16);
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`id out of range: ${uuid}`);
  return { kind, id };
}
