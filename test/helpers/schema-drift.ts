// Compares src/db/schema.ts (read with the TypeScript compiler, as the type checker sees it) with a
// migrated database (read from its catalogue): tables, columns, each column's type family and
// nullability, and each union of string literals with the values its CHECK constraint allows.
// schema.ts is written by hand because codegen cannot produce unions like OrderStatus from CHECK
// constraints; this comparison is what keeps the hand-written file honest.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import ts from 'typescript';
import type { Database } from '../../src/db/schema.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCHEMA_FILE = join(ROOT, 'src/db/schema.ts');

/** What a column holds, in terms both sides can state. */
export type Family = 'text' | 'number' | 'boolean' | 'timestamp' | 'bytes' | 'json';

/** One side of a column's kind, as TypeScript (select, insert and update types) or the database states it. */
interface TypeFacts {
  families: Set<Family>;
  /** null is among the values (undefined when the type is `unknown`, which says nothing). */
  nullable: boolean | undefined;
  /** The string literals when the non-null part is a union of literals only. */
  literals: string[] | undefined;
  /** `undefined` is allowed (an insert may leave the column out). */
  optional: boolean;
}

export interface DeclaredColumn {
  select: TypeFacts;
  insert: TypeFacts;
  update: TypeFacts | undefined;
}

export type DeclaredSchema = Map<string, Map<string, DeclaredColumn>>;

let previousProgram: ts.Program | undefined;

/**
 * The `Database` interface of schema.ts, table by table and column by column. `text` replaces the
 * file's contents (the drift tests feed it a broken copy); the rest of the program is reused.
 */
export function readDeclaredSchema(text?: string): DeclaredSchema {
  const configFile = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  const host = ts.createCompilerHost(options);
  if (text !== undefined) {
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, ...rest) =>
      resolve(fileName) === SCHEMA_FILE ? ts.createSourceFile(fileName, text, languageVersion, true) : getSourceFile(fileName, languageVersion, ...rest);
  }
  const program = ts.createProgram({ rootNames: [SCHEMA_FILE], options, host, ...(previousProgram ? { oldProgram: previousProgram } : {}) });
  previousProgram = program;
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(SCHEMA_FILE);
  const database = source?.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Database');
  if (database === undefined) throw new Error('src/db/schema.ts has no `interface Database`');

  const schema: DeclaredSchema = new Map();
  for (const table of checker.getTypeAtLocation(database).getProperties()) {
    const columns = new Map<string, DeclaredColumn>();
    for (const column of checker.getTypeOfSymbol(table).getProperties()) {
      const type = checker.getTypeOfSymbol(column);
      // Kysely's ColumnType<S, I, U> is { __select__: S; __insert__: I; __update__: U }; a plain type is all three.
      const part = (name: string) => {
        const symbol = type.getProperty(name);
        return symbol === undefined ? type : checker.getTypeOfSymbol(symbol);
      };
      const update = part('__update__');
      columns.set(column.name, {
        select: factsOfType(checker, part('__select__')),
        insert: factsOfType(checker, part('__insert__')),
        update: update.flags & ts.TypeFlags.Never ? undefined : factsOfType(checker, update),
      });
    }
    schema.set(table.name, columns);
  }
  return schema;
}

function factsOfType(checker: ts.TypeChecker, type: ts.Type): TypeFacts {
  const facts: TypeFacts = { families: new Set(), nullable: false, literals: [], optional: false };
  for (const member of type.isUnion() ? type.types : [type]) {
    const flags = member.flags;
    if (flags & ts.TypeFlags.Never) continue; // a generated column's insert type: no value at all
    if (flags & ts.TypeFlags.Null) facts.nullable = true;
    else if (flags & ts.TypeFlags.Undefined) facts.optional = true;
    else if (flags & (ts.TypeFlags.Unknown | ts.TypeFlags.Any)) {
      facts.families.add('json');
      facts.nullable = undefined;
      facts.literals = undefined;
    } else if (flags & ts.TypeFlags.StringLiteral) {
      facts.families.add('text');
      facts.literals?.push((member as ts.StringLiteralType).value);
    } else {
      facts.literals = undefined;
      if (flags & ts.TypeFlags.String) facts.families.add('text');
      else if (flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) facts.families.add('number');
      else if (flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) facts.families.add('boolean');
      else if (member.getSymbol()?.name === 'Date') facts.families.add('timestamp');
      else if (member.getSymbol()?.name === 'Uint8Array') facts.families.add('bytes');
      else facts.families.add('json'); // objects, records and arrays are stored as jsonb
    }
  }
  if (facts.literals?.length === 0) facts.literals = undefined;
  facts.literals?.sort();
  return facts;
}

export interface ActualColumn {
  family: Family;
  udt: string;
  nullable: boolean;
  hasDefault: boolean;
  /** GENERATED ALWAYS … STORED: PostgreSQL computes it, so schema.ts must not let it be written. */
  generated: boolean;
  /** The values an enum-like CHECK (`column in (...)`, optionally `is null or …`) allows. */
  allowed: string[] | undefined;
}

export type ActualSchema = Map<string, Map<string, ActualColumn>>;

const FAMILY_OF_UDT: Record<string, Family> = {
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  uuid: 'text',
  citext: 'text',
  int2: 'number',
  int4: 'number',
  int8: 'number',
  float4: 'number',
  float8: 'number',
  bool: 'boolean',
  timestamptz: 'timestamp',
  timestamp: 'timestamp',
  date: 'timestamp',
  bytea: 'bytes',
  jsonb: 'json',
  json: 'json',
  tsvector: 'text',
};

/** The app's tables in the database (Kysely's own migration tables left out). */
export async function readActualSchema(db: Kysely<Database>): Promise<ActualSchema> {
  const columns = await sql<{
    table_name: string;
    column_name: string;
    udt_name: string;
    is_nullable: 'YES' | 'NO';
    column_default: string | null;
    is_identity: 'YES' | 'NO';
    is_generated: 'ALWAYS' | 'NEVER';
  }>`
    select table_name, column_name, udt_name, is_nullable, column_default, is_identity, is_generated
    from information_schema.columns
    where table_schema = 'public' and table_name not like 'kysely_%'
    order by table_name, ordinal_position`.execute(db);
  const checks = await sql<{ table_name: string; column_name: string; definition: string }>`
    select cl.relname::text as table_name, a.attname::text as column_name, pg_get_constraintdef(c.oid) as definition
    from pg_constraint c
    join pg_class cl on cl.oid = c.conrelid
    join pg_namespace n on n.oid = cl.relnamespace
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    where c.contype = 'c' and n.nspname = 'public' and cardinality(c.conkey) = 1`.execute(db);

  const schema: ActualSchema = new Map();
  for (const row of columns.rows) {
    const family = FAMILY_OF_UDT[row.udt_name];
    if (family === undefined) throw new Error(`${row.table_name}.${row.column_name}: no type family for ${row.udt_name}; add it to FAMILY_OF_UDT`);
    if (!schema.has(row.table_name)) schema.set(row.table_name, new Map());
    schema.get(row.table_name)!.set(row.column_name, {
      family,
      udt: row.udt_name,
      nullable: row.is_nullable === 'YES',
      hasDefault: row.column_default !== null || row.is_identity === 'YES',
      generated: row.is_generated === 'ALWAYS',
      allowed: undefined,
    });
  }
  for (const check of checks.rows) {
    // PostgreSQL stores `status in ('a', 'b')` as `(status = ANY (ARRAY['a'::text, 'b'::text]))`.
    if (!check.definition.includes('= ANY (ARRAY[')) continue;
    const values = [...check.definition.matchAll(/'((?:[^']|'')*)'::text/g)].map((m) => m[1]!.replaceAll("''", "'")).sort();
    const column = schema.get(check.table_name)?.get(check.column_name);
    if (column === undefined) continue;
    if (column.allowed !== undefined) throw new Error(`${check.table_name}.${check.column_name} has two enum-like CHECK constraints`);
    column.allowed = values;
  }
  return schema;
}

const WRITTEN_AS: Record<Family, Family[]> = {
  text: ['text'],
  number: ['number'],
  boolean: ['boolean'],
  bytes: ['bytes'],
  timestamp: ['timestamp', 'text'],
  json: ['json', 'text'],
};

const list = (values: Iterable<string>) => [...values].map((v) => `'${v}'`).join(', ');

/** Every difference between the two, one readable line each (sorted); empty when they agree. */
export function schemaDrift(declared: DeclaredSchema, actual: ActualSchema): string[] {
  const drift: string[] = [];
  for (const table of actual.keys()) if (!declared.has(table)) drift.push(`table ${table} is in the database but not in Database (schema.ts)`);
  for (const table of declared.keys()) if (!actual.has(table)) drift.push(`table ${table} is in Database (schema.ts) but not in the database`);

  for (const [table, declaredColumns] of declared) {
    const actualColumns = actual.get(table);
    if (actualColumns === undefined) continue;
    for (const column of actualColumns.keys()) if (!declaredColumns.has(column)) drift.push(`${table}.${column} is in the database but not in schema.ts`);
    for (const [column, d] of declaredColumns) {
      const a = actualColumns.get(column);
      const at = `${table}.${column}`;
      if (a === undefined) {
        drift.push(`${at} is in schema.ts but not in the database`);
        continue;
      }
      if (a.generated && (d.insert.families.size > 0 || d.update !== undefined))
        drift.push(`${at}: generated by the database, so its insert and update types must be never`);
      for (const [side, facts] of [
        ['select', d.select],
        ['insert', d.insert],
        ['update', d.update],
      ] as const) {
        if (facts === undefined || (a.generated && side !== 'select')) continue;
        const families = [...facts.families];
        // Reads come back as one family; writes may also send text that PostgreSQL parses (an ISO
        // timestamp, a JSON.stringify'd document).
        const allowed = side === 'select' ? [a.family] : WRITTEN_AS[a.family];
        if (families.length === 0 || (side === 'select' && families.length !== 1) || families.some((f) => !allowed.includes(f))) {
          drift.push(`${at}: the ${side} type is ${families.join(' | ') || 'empty'} but the column is ${a.udt} (${a.family})`);
        }
        if (facts.nullable !== undefined && facts.nullable !== a.nullable) {
          drift.push(`${at}: the ${side} type ${facts.nullable ? 'allows' : 'does not allow'} null but the column is ${a.nullable ? 'nullable' : 'not null'}`);
        }
      }
      if (d.insert.optional && !a.hasDefault && !a.nullable) drift.push(`${at}: optional on insert but the column is not null and has no default`);

      const literals = d.select.literals;
      if (a.allowed === undefined && literals !== undefined)
        drift.push(`${at}: typed as ${list(literals)} but the database has no CHECK constraint listing its values`);
      if (a.allowed !== undefined && literals === undefined)
        drift.push(`${at}: its CHECK allows only ${list(a.allowed)} but schema.ts types it as ${[...d.select.families].join(' | ')}`);
      if (a.allowed !== undefined && literals !== undefined) {
        const missing = a.allowed.filter((v) => !literals.includes(v));
        const extra = literals.filter((v) => !a.allowed!.includes(v));
        if (missing.length > 0) drift.push(`${at}: the CHECK allows ${list(missing)}, missing from its type in schema.ts`);
        if (extra.length > 0) drift.push(`${at}: schema.ts allows ${list(extra)}, which the CHECK refuses`);
      }
    }
  }
  return drift.sort();
}
