// Turns TypeBox validation errors into readable ConfigProblems (file + JSON path + message), for
// every config schema (routes now, services and policies later). Pure.
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { ConfigProblem } from '../errors.js';

/**
 * Schemas may carry a `problem` option: the message shown when a string pattern or length, or
 * an array length, does not hold (a regex is no message for a human).
 */
export interface ProblemOption {
  readonly problem?: string;
}

/** Last segment of a JSON pointer, unescaped (`~1` is `/`, `~0` is `~`). */
export function lastPointerKey(path: string): string {
  const key = path.slice(path.lastIndexOf('/') + 1);
  return key.replace(/~1/g, '/').replace(/~0/g, '~');
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function numberRange(schema: TSchema, noun: string): string {
  const min = schema['minimum'] as number | undefined;
  const max = schema['maximum'] as number | undefined;
  if (min !== undefined && max !== undefined) return `must be ${noun} from ${min} to ${max}`;
  if (min !== undefined) return `must be ${noun} of at least ${min}`;
  if (max !== undefined) return `must be ${noun} of at most ${max}`;
  return `must be ${noun}`;
}

function describe(error: ValueError): string {
  const schema = error.schema;
  const custom = schema['problem'] as string | undefined;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return `unknown key '${lastPointerKey(error.path)}'`;
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.Object:
      return 'must be a mapping of keys to values';
    case ValueErrorType.ObjectMaxProperties:
      return `must have at most ${schema['maxProperties']} entries`;
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.Boolean:
      return 'must be true or false';
    case ValueErrorType.Integer:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return numberRange(schema, 'an integer');
    case ValueErrorType.Number:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
      return numberRange(schema, 'a number');
    case ValueErrorType.StringPattern:
    case ValueErrorType.StringFormat:
      return custom ?? `must match ${schema['pattern'] ?? schema['format']}`;
    case ValueErrorType.StringMinLength:
      return custom ?? (schema['minLength'] === 1 ? 'must not be empty' : `must be at least ${schema['minLength']} characters long`);
    case ValueErrorType.StringMaxLength:
      return custom ?? `must be at most ${schema['maxLength']} characters long`;
    case ValueErrorType.Array:
      return 'must be a list';
    case ValueErrorType.ArrayMinItems:
      return custom ?? `must list at least ${schema['minItems']} item(s)`;
    case ValueErrorType.ArrayMaxItems:
      return custom ?? `must list at most ${schema['maxItems']} items`;
    case ValueErrorType.Literal:
      return `must be ${quote(schema['const'])}`;
    case ValueErrorType.Union: {
      const options = (schema['anyOf'] as TSchema[] | undefined) ?? [];
      if (options.length > 0 && options.every((option) => 'const' in option)) {
        return `must be one of ${options.map((option) => quote(option['const'])).join(', ')}`;
      }
      return custom ?? 'does not match any allowed form';
    }
    default:
      return custom ?? error.message;
  }
}

/**
 * Every schema problem of `value`, one per JSON path and message. A missing required key is
 * reported once, not also as "must be a string".
 */
export function schemaProblems(schema: TSchema, value: unknown, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const missing = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    if (missing.has(error.path)) continue;
    if (error.type === ValueErrorType.ObjectRequiredProperty) missing.add(error.path);
    const message = describe(error);
    const key = `${error.path}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file, path: error.path, message });
  }
  return problems;
}
