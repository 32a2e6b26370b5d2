import fs from 'node:fs';
import path from 'node:path';
import { get_dmmf } from '@prisma/prisma-schema-wasm';

/** The parts of Prisma's DMMF the drift test reads (the same document `prisma generate` works from). */
export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
export interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  fields: { name: string }[];
}
export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName?: string | null }[];
}
export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

export const SCHEMA_PATH = path.resolve(__dirname, '..', '..', 'prisma', 'schema.prisma');

export function readDatamodel(schemaPath = SCHEMA_PATH): Datamodel {
  const prismaSchema = fs.readFileSync(schemaPath, 'utf8');
  return (JSON.parse(get_dmmf(JSON.stringify({ prismaSchema }))) as { datamodel: Datamodel }).datamodel;
}
