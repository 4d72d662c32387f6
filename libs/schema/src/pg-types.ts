import pg from 'pg';
import { SchemaError } from './errors.js';

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
/** pg-types' declared oid enum lacks the array types its parser table does handle. */
type Oid = Parameters<typeof pg.types.getTypeParser>[0];
const TEXT_ARRAY_OID = 1009 as Oid;

/** bigint -> number; refuses values a double would round rather than corrupt them silently. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new SchemaError('INT8_OUT_OF_RANGE', `bigint value ${text} is beyond Number.MAX_SAFE_INTEGER`);
  }
  return value;
}

type NestedStrings = string | null | NestedStrings[];
type NestedNumbers = number | null | NestedNumbers[];

function mapInt8Array(value: NestedStrings): NestedNumbers {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(mapInt8Array);
  return parseInt8(value);
}

const parseTextArray = pg.types.getTypeParser(TEXT_ARRAY_OID, 'text') as (text: string) => NestedStrings;

function getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (format !== 'binary') {
    if (oid === INT8_OID) return parseInt8;
    if (oid === INT8_ARRAY_OID) return (text: string) => mapInt8Array(parseTextArray(text));
  }
  return pg.types.getTypeParser(oid as Oid, format ?? 'text') as (value: string) => unknown;
}

/**
 * Type parsers for the Central DB pools. Set per pool rather than on pg's global registry, so
 * other pg users in the same process keep their own behaviour. bytea keeps pg's default (Buffer).
 */
export const centralDbTypes: pg.CustomTypesConfig = {
  getTypeParser: getTypeParser as pg.CustomTypesConfig['getTypeParser'],
};
