/** One error as Ajv reports it (the fields Fastify passes on in `error.validation`). */
export interface AjvError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
}

type Schema = Record<string, unknown>;

/** The part of a JSON schema a `#/a/b` pointer names, or undefined. */
function resolve(root: unknown, pointer: string): Schema | undefined {
  let node = root;
  for (const raw of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node && typeof node === 'object' ? (node as Schema) : undefined;
}

const ARTICLE: Record<string, string> = { integer: 'an integer', number: 'a number', string: 'a string', boolean: 'a boolean', object: 'an object', array: 'an array', null: 'null' };

/** The values and kinds a schema accepts, as words: consts and enums by value, others by type and bounds. */
function accepted(schema: Schema): { values: string[]; kinds: string[] } {
  if ('const' in schema) return { values: [String(schema.const)], kinds: [] };
  if (Array.isArray(schema.enum)) return { values: schema.enum.map(String), kinds: [] };
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(branches)) {
    const parts = branches.map(accepted);
    return { values: parts.flatMap((p) => p.values), kinds: parts.flatMap((p) => p.kinds) };
  }
  const type = typeof schema.type === 'string' ? schema.type : 'value';
  const { minimum: min, maximum: max } = schema as { minimum?: number; maximum?: number };
  const bounds = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
  return { values: [], kinds: [(ARTICLE[type] ?? type) + bounds] };
}

/** "must be one of info, success, warning, error" / "must be one of admin, all or an integer >= 1". */
function mustBe(schema: Schema): string {
  const { values, kinds } = accepted(schema);
  if (values.length === 0) return `must be ${kinds.join(' or ')}`;
  if (values.length === 1 && kinds.length === 0) return `must be ${values[0]}`;
  return `must be one of ${values.join(', ')}${kinds.length ? ` or ${kinds.join(' or ')}` : ''}`;
}

function fieldName(context: string, error: AjvError): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = error.keyword === 'required' ? String(error.params.missingProperty) : '';
  const extra = error.keyword === 'additionalProperties' ? String(error.params.additionalProperty) : '';
  return [context, path, missing || extra].filter(Boolean).join('.');
}

function describe(error: AjvError, schema: unknown): string {
  const at = error.schemaPath.replace(/\/[^/]+$/, '');
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an allowed property';
    case 'anyOf':
    case 'oneOf':
    case 'enum':
    case 'const': {
      const node = resolve(schema, at);
      if (node) return mustBe(node);
      return error.keyword === 'enum' ? `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}` : (error.message ?? 'is invalid');
    }
    case 'pattern': {
      // `^(a|b)(,(a|b))*$`, the shape of a comma-separated filter, reads better as its words.
      const list = /^\^\(([\w|]+)\)\(,\(\1\)\)\*\$$/.exec(String(error.params.pattern));
      return list ? `must be a comma-separated list of ${list[1].split('|').join(', ')}` : (error.message ?? 'is invalid');
    }
    case 'type':
      return `must be ${String(error.params.type).split(',').map((t) => ARTICLE[t] ?? t).join(' or ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * Turns Ajv's errors for one part of a request into one message per field, naming what is
 * allowed: `body.level must be one of info, success, warning, error`. An anyOf of consts is
 * collapsed into its values; the errors of its branches are not repeated.
 * `schema` is the route's schema for that part (to list an anyOf's branches); without it the
 * messages fall back to Ajv's wording.
 */
export function formatValidation(context: string, errors: readonly AjvError[], schema?: unknown): string {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath + '/');
  const kept = errors.filter((e) => !unions.some((prefix) => e.schemaPath.startsWith(prefix)));
  const messages = new Map<string, string>();
  for (const error of kept) {
    const field = fieldName(context, error);
    if (!messages.has(field)) messages.set(field, `${field} ${describe(error, schema)}`);
  }
  return [...messages.values()].join('; ');
}
