/**
 * A JSON Schema (2020-12) validator for the subset docs/*.schema.json use: `$ref` (a JSON
 * pointer into the same document), `oneOf`, `type`, `properties`, `required`,
 * `additionalProperties: false`, `items`, `enum`, `const`, `pattern`, `minimum`, `maximum`.
 * Any other keyword is an error, so a schema never uses one this validator would skip.
 *
 * @module
 */

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(["$schema", "$id", "$defs", "title", "description"]);
const KEYWORDS = new Set([
  "$ref",
  "oneOf",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "const",
  "pattern",
  "minimum",
  "maximum",
]);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
  let at: unknown = root;
  for (const part of ref.slice(2).split("/")) {
    at = (at as Schema | undefined)?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  if (at === undefined) throw new Error(`unresolved $ref ${ref}`);
  return at as Schema;
}

/** Every way `value` breaks `schema`, as "path: reason"; empty when it is valid. */
export function validate(
  root: Schema,
  value: unknown,
  schema: Schema = root,
  path = "$",
): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) throw new Error(`unsupported keyword ${key}`);
  }
  if (typeof schema.$ref === "string") {
    errors.push(...validate(root, value, resolve(root, schema.$ref), path));
  }
  if (Array.isArray(schema.oneOf)) {
    const passing = schema.oneOf.filter((s) =>
      validate(root, value, s as Schema, path).length === 0
    );
    if (passing.length !== 1) errors.push(`${path}: matches ${passing.length} of oneOf, not 1`);
  }
  if (typeof schema.type === "string") {
    const actual = typeOf(value);
    const ok = actual === schema.type || (schema.type === "number" && actual === "integer");
    if (!ok) return [...errors, `${path}: ${actual}, not ${schema.type}`];
  }
  if ("const" in schema && value !== schema.const) {
    errors.push(`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  }
  if (typeof schema.pattern === "string" && typeof value === "string") {
    if (!new RegExp(schema.pattern, "u").test(value)) {
      errors.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    }
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      errors.push(`${path}: ${value} < ${schema.minimum}`);
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      errors.push(`${path}: ${value} > ${schema.maximum}`);
    }
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in object)) errors.push(`${path}: missing ${name}`);
    }
    for (const [name, inner] of Object.entries(object)) {
      const sub = properties[name];
      if (sub !== undefined) errors.push(...validate(root, inner, sub, `${path}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected ${name}`);
    }
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) =>
      errors.push(...validate(root, item, schema.items as Schema, `${path}[${i}]`))
    );
  }
  return errors;
}
