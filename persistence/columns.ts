/**
 * Column-oriented bulk statements: one array per column, one `INSERT ... SELECT FROM unnest(...)` per table.
 * That is a single statement whatever the row count (no per-row statements, no 65,535-parameter limit, and
 * about half the planning cost of a multi-row VALUES list).
 */
import { type FragmentSqlToken, sql } from 'slonik';

/**
 * How a column travels: `us` is microseconds since the epoch as int8, turned into timestamptz in SQL
 * (exactly, see exch_us_to_ts); `json` travels as text and is cast to json (validated, kept as written).
 */
export type ColumnType = 'uuid' | 'int8' | 'int4' | 'text' | 'numeric' | 'bool' | 'us' | 'json';

const ARRAY_TYPE: Record<ColumnType, string> = {
  uuid: 'uuid',
  int8: 'int8',
  int4: 'int4',
  text: 'text',
  numeric: 'numeric',
  bool: 'bool',
  us: 'int8',
  json: 'text',
};

export type ColumnSpec = readonly (readonly [name: string, type: ColumnType])[];

/** Rows of one table, gathered column by column. */
export class ColumnSet {
  readonly values: unknown[][];
  constructor(readonly spec: ColumnSpec) {
    this.values = spec.map(() => []);
  }
  get size(): number {
    return this.values[0]!.length;
  }
  /** Rows [from, to) as a new set (bulk loads in chunks). */
  slice(from: number, to: number): ColumnSet {
    const out = new ColumnSet(this.spec);
    for (let i = 0; i < this.values.length; i++) out.values[i] = this.values[i]!.slice(from, to);
    return out;
  }
  /** Appends one row; `row` follows the spec's column order. */
  push(row: readonly unknown[]): void {
    for (let i = 0; i < row.length; i++) this.values[i]!.push(row[i]);
  }
}

const comma = sql.fragment`, `;

const NUMERIC = /^-?\d+(\.\d+)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A PostgreSQL array literal for values that never need quoting (numbers, decimals, UUIDs, booleans),
 * written directly: pg's generic array serializer escapes every element, which was the worker's largest
 * JavaScript cost. Anything that does not look like its type is refused rather than quoted, so a value
 * can never change the literal's shape.
 */
function plainArrayLiteral(values: readonly unknown[], type: ColumnType): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) parts[i] = 'NULL';
    else if (type === 'bool') parts[i] = v ? 't' : 'f';
    else if (typeof v === 'number' && Number.isSafeInteger(v) && type !== 'uuid') parts[i] = String(v);
    else if (
      typeof v === 'string' &&
      (type === 'uuid' ? UUID.test(v) : type === 'numeric' && NUMERIC.test(v))
    )
      parts[i] = v;
    else throw new TypeError(`not a ${type}: ${String(v)}`);
  }
  return `{${parts.join(',')}}`;
}

function arrayParam(values: unknown[], type: ColumnType): FragmentSqlToken {
  if (type === 'text' || type === 'json') return sql.fragment`${sql.array(values as never[], 'text')}`;
  const literal = plainArrayLiteral(values, type);
  return sql.fragment`${literal}::${sql.identifier([ARRAY_TYPE[type]])}[]`;
}
function selectExpr(name: string, type: ColumnType): FragmentSqlToken {
  const ref = sql.identifier(['t', name]);
  if (type === 'us') return sql.fragment`exch_us_to_ts(${ref})`;
  if (type === 'json') return sql.fragment`${ref}::json`;
  return sql.fragment`${ref}`;
}

export type Conflict = { kind: 'nothing' } | { kind: 'newer-seq'; key: string } | { kind: 'none' };

/**
 * INSERT ... SELECT FROM unnest(...). `newer-seq` upserts a current-state row only when the incoming `seq` is
 * higher than the stored one, so an older batch arriving late never overwrites a newer state, and the same
 * batch twice changes nothing.
 */
export function bulkInsert(table: string, rows: ColumnSet, conflict: Conflict): FragmentSqlToken {
  const names = rows.spec.map(([name]) => sql.identifier([name]));
  const arrays = rows.spec.map(([, type], i) => arrayParam(rows.values[i]!, type));
  const select = rows.spec.map(([name, type]) => selectExpr(name, type));
  const target = sql.identifier([table]);
  let onConflict: FragmentSqlToken;
  if (conflict.kind === 'none') {
    // A plain insert: benchmarks measure the rows against it.
    onConflict = sql.fragment``;
  } else if (conflict.kind === 'nothing') {
    onConflict = sql.fragment`ON CONFLICT DO NOTHING`;
  } else {
    const updates = rows.spec
      .filter(([name]) => name !== conflict.key)
      .map(([name]) => sql.fragment`${sql.identifier([name])} = EXCLUDED.${sql.identifier([name])}`);
    onConflict = sql.fragment`ON CONFLICT (${sql.identifier([conflict.key])}) DO UPDATE SET ${sql.join(updates, comma)}
      WHERE ${sql.identifier([table, 'seq'])} < EXCLUDED.seq`;
  }
  return sql.fragment`INSERT INTO ${target} (${sql.join(names, comma)})
    SELECT ${sql.join(select, comma)} FROM unnest(${sql.join(arrays, comma)}) AS t(${sql.join(names, comma)})
    ${onConflict}`;
}
