import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { readDatamodel, type Datamodel, type DmmfField, type DmmfModel } from '../support/prisma-dmmf';

/**
 * The migrated database (prisma/migrations, applied by our runner) must match prisma/schema.prisma:
 * same tables, columns, types, nullability, defaults, indexes, foreign keys and enums. The expected shape
 * is derived from Prisma's own DMMF, so new models and migrations are covered without touching this file.
 */

interface Column {
  table: string;
  column: string;
  data_type: string;
  udt_name: string;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
  character_maximum_length: number | null;
  datetime_precision: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
}

/**
 * Indexes a migration may add that Prisma's schema language cannot express (partial or expression indexes).
 * Each needs its name here and a reason; everything else must match schema.prisma exactly.
 */
const INDEXES_PRISMA_CANNOT_EXPRESS: Record<string, string> = {};

const tableOf = (m: DmmfModel) => m.dbName ?? m.name;
const columnOf = (f: DmmfField) => f.dbName ?? f.name;
const scalarFields = (m: DmmfModel) => m.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');

/** Postgres type of a field as information_schema names it (Prisma's default native types when none is given). */
function expectedType(f: DmmfField, dm: Datamodel): string {
  if (f.kind === 'enum') {
    const e = dm.enums.find((x) => x.name === f.type)!;
    return `enum:${e.dbName ?? e.name}`;
  }
  const [native, args = []] = f.nativeType ?? [];
  const a = (i: number) => args[i];
  const byNative: Record<string, () => string> = {
    Text: () => 'text',
    VarChar: () => `character varying${a(0) ? `(${a(0)})` : ''}`,
    Char: () => `character${a(0) ? `(${a(0)})` : ''}`,
    Uuid: () => 'uuid',
    Integer: () => 'integer',
    SmallInt: () => 'smallint',
    BigInt: () => 'bigint',
    DoublePrecision: () => 'double precision',
    Real: () => 'real',
    Decimal: () => `numeric${a(0) ? `(${a(0)},${a(1) ?? '0'})` : ''}`,
    Timestamp: () => `timestamp without time zone(${a(0) ?? '6'})`,
    Timestamptz: () => `timestamp with time zone(${a(0) ?? '6'})`,
    Date: () => 'date',
    Time: () => `time without time zone(${a(0) ?? '6'})`,
    JsonB: () => 'jsonb',
    Json: () => 'json',
    ByteA: () => 'bytea',
    Boolean: () => 'boolean',
    Inet: () => 'inet',
  };
  if (native) {
    const t = byNative[native];
    if (!t) throw new Error(`drift test does not know native type @db.${native} (${f.name}); teach expectedType`);
    return t();
  }
  const byScalar: Record<string, string> = {
    String: 'text',
    Boolean: 'boolean',
    Int: 'integer',
    BigInt: 'bigint',
    Float: 'double precision',
    Decimal: 'numeric(65,30)',
    DateTime: 'timestamp without time zone(3)',
    Json: 'jsonb',
    Bytes: 'bytea',
  };
  const t = byScalar[f.type];
  if (!t) throw new Error(`drift test does not know Prisma type ${f.type} (${f.name})`);
  return t;
}

function actualType(c: Column): string {
  if (c.data_type === 'USER-DEFINED') return `enum:${c.udt_name}`;
  if (c.data_type === 'character varying' || c.data_type === 'character') {
    return c.character_maximum_length ? `${c.data_type}(${c.character_maximum_length})` : c.data_type;
  }
  if (c.data_type.startsWith('timestamp') || c.data_type.startsWith('time ')) return `${c.data_type}(${c.datetime_precision})`;
  if (c.data_type === 'numeric') return c.numeric_precision ? `numeric(${c.numeric_precision},${c.numeric_scale})` : 'numeric';
  return c.data_type;
}

/** The default as Prisma would write it in a migration, normalised the way Postgres reports it. */
function expectedDefault(f: DmmfField): string | RegExp | null {
  if (!f.hasDefaultValue) return null;
  const d = f.default as { name?: string; args?: unknown[] } | string | number | boolean | unknown[];
  if (d && typeof d === 'object' && !Array.isArray(d) && typeof d.name === 'string') {
    switch (d.name) {
      case 'now':
        return /^(CURRENT_TIMESTAMP|now\(\))$/;
      case 'autoincrement':
        return /^nextval\(/;
      case 'dbgenerated':
        return d.args?.length ? new RegExp(`^${escape(String(d.args[0]))}`) : /./;
      default:
        return null; // uuid(), cuid(), ulid(), nanoid(): made by the client, no column default
    }
  }
  if (typeof d === 'boolean' || typeof d === 'number') return String(d);
  if (typeof d === 'string') {
    if (f.kind === 'enum') return new RegExp(`^'${escape(d)}'::`);
    return new RegExp(`^'${escape(d.replace(/'/g, "''"))}'::`);
  }
  return /./; // list defaults: present, shape not compared
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('schema drift: prisma/schema.prisma vs the migrated database', () => {
  let database: TestDatabase;
  let pg: Client;
  let dm: Datamodel;
  let columns: Column[];

  beforeAll(async () => {
    dm = readDatamodel();
    database = await createTestDatabase();
    pg = new Client({ connectionString: database.url });
    await pg.connect();
    columns = (
      await pg.query<Column>(
        `SELECT table_name AS table, column_name AS column, data_type, udt_name, is_nullable, column_default,
                character_maximum_length, datetime_precision, numeric_precision, numeric_scale
           FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
      )
    ).rows;
  });

  afterAll(async () => {
    await pg.end();
    await database.drop();
  });

  it('has exactly the tables of the schema', async () => {
    const { rows } = await pg.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
    );
    expect(rows.map((r) => r.table_name).sort()).toEqual(dm.models.map(tableOf).sort());
  });

  it('has exactly the columns of each model, with their types, nullability and defaults', () => {
    const problems: string[] = [];
    for (const m of dm.models) {
      const table = tableOf(m);
      const actual = new Map(columns.filter((c) => c.table === table).map((c) => [c.column, c]));
      const expected = scalarFields(m);
      for (const f of expected) {
        const name = `${table}.${columnOf(f)}`;
        const c = actual.get(columnOf(f));
        if (!c) {
          problems.push(`${name}: in schema.prisma, missing from the database`);
          continue;
        }
        const type = f.isList ? `ARRAY:_${expectedType(f, dm).replace(/\(.*\)$/, '')}` : expectedType(f, dm);
        const got = f.isList ? `ARRAY:${c.udt_name}` : actualType(c);
        if (f.isList ? !got.startsWith('ARRAY:_') : got !== type) problems.push(`${name}: type ${got}, schema says ${type}`);
        const nullable = !f.isRequired && !f.isList;
        if ((c.is_nullable === 'YES') !== nullable) problems.push(`${name}: ${c.is_nullable === 'YES' ? 'nullable' : 'NOT NULL'}, schema says ${nullable ? 'optional' : 'required'}`);
        const def = expectedDefault(f);
        if (def === null) {
          if (c.column_default !== null) problems.push(`${name}: database default ${c.column_default}, schema has none`);
        } else if (c.column_default === null) {
          problems.push(`${name}: no database default, schema has one`);
        } else if (typeof def === 'string' ? c.column_default !== def : !def.test(c.column_default)) {
          problems.push(`${name}: database default ${c.column_default}, schema says ${String(def)}`);
        }
      }
      const known = new Set(expected.map(columnOf));
      for (const col of actual.keys()) if (!known.has(col)) problems.push(`${table}.${col}: in the database, missing from schema.prisma`);
    }
    expect(problems).toEqual([]);
  });

  it('has exactly the primary keys, unique and plain indexes of the schema', async () => {
    const fieldColumn = (model: string, field: string) => {
      const m = dm.models.find((x) => x.name === model)!;
      return columnOf(m.fields.find((f) => f.name === field)!);
    };
    const expected = dm.indexes
      .filter((i) => i.type !== 'fulltext')
      .map((i) => {
        const m = dm.models.find((x) => x.name === i.model)!;
        const kind = i.type === 'id' ? 'primary' : i.type === 'unique' ? 'unique' : 'index';
        return `${tableOf(m)} ${kind} (${i.fields.map((f) => fieldColumn(i.model, f.name)).join(', ')})`;
      });
    // @@id / @id are in dmmf.indexes as type "id"; a model whose id is compound appears there too.
    const { rows } = await pg.query<{ name: string; table: string; primary: boolean; unique: boolean; columns: string[] }>(
      `SELECT i.relname::text AS name, t.relname AS table, ix.indisprimary AS primary, ix.indisunique AS unique,
              array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index ix
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE t.relname <> '_prisma_migrations'
        GROUP BY ix.indexrelid, i.relname, t.relname, ix.indisprimary, ix.indisunique`,
    );
    const actual = rows.filter((r) => !(r.name in INDEXES_PRISMA_CANNOT_EXPRESS)).map((r) => `${r.table} ${r.primary ? 'primary' : r.unique ? 'unique' : 'index'} (${r.columns.join(', ')})`);
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('has the foreign keys of the schema’s relations, with their delete rules', async () => {
    const expected: string[] = [];
    for (const m of dm.models) {
      for (const f of m.fields) {
        if (f.kind !== 'object' || !f.relationFromFields?.length) continue;
        const target = dm.models.find((x) => x.name === f.type)!;
        const from = f.relationFromFields.map((n) => columnOf(m.fields.find((x) => x.name === n)!));
        const to = (f.relationToFields ?? []).map((n) => columnOf(target.fields.find((x) => x.name === n)!));
        const onDelete = (f.relationOnDelete ?? (f.isRequired ? 'Restrict' : 'SetNull')).replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
        expected.push(`${tableOf(m)}(${from.join(', ')}) -> ${tableOf(target)}(${to.join(', ')}) ON DELETE ${onDelete === 'NO ACTION' ? 'NO ACTION' : onDelete}`);
      }
    }
    const { rows } = await pg.query<{ fk: string }>(
      `SELECT format('%s(%s) -> %s(%s) ON DELETE %s', c.conrelid::regclass::text,
                     (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
                     c.confrelid::regclass::text,
                     (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n),
                     CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END) AS fk
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace AND n.nspname = 'public'
        WHERE c.contype = 'f'`,
    );
    expect(rows.map((r) => r.fk.replace(/"/g, '')).sort()).toEqual(expected.sort());
  });

  it('has the enums of the schema with their values', async () => {
    const { rows } = await pg.query<{ name: string; values: string[] }>(
      `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = 'public'
        GROUP BY t.typname`,
    );
    const expected = dm.enums.map((e) => ({ name: e.dbName ?? e.name, values: e.values.map((v) => v.dbName ?? v.name) }));
    expect(rows.sort((a, b) => a.name.localeCompare(b.name))).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
  });

  it('records every migration directory as applied, none failed', async () => {
    const { rows } = await pg.query<{ migration_name: string; finished_at: Date | null }>('SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dir = path.resolve(__dirname, '..', '..', 'prisma', 'migrations');
    const dirs = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(rows.map((r) => r.migration_name)).toEqual(dirs);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });
});
