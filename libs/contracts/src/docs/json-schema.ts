import { z } from 'zod';

/** A JSON Schema (or any JSON object of a generated document). */
export type JsonObject = Record<string, unknown>;

export interface ComponentOptions {
  target: 'draft-07' | 'draft-2020-12';
  /** Where the document keeps them: a `$ref` is this prefix and the name. */
  refPrefix: string;
  /** `output` for what the server sends (exactly what it writes), `input` for what it accepts. */
  io: 'input' | 'output';
}

/** Named zod schemas as the `components.schemas` of a document, each one another uses written as a `$ref` to it. */
export function componentSchemas(schemas: Record<string, z.ZodType>, options: ComponentOptions): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, { target: options.target, io: options.io, unrepresentable: 'throw', uri: (id) => `${options.refPrefix}${id}` });
  // A schema inside carrying a global `.meta({ id })` that is not named here would land in zod's
  // `__shared` definitions, which no `$ref` of the document reaches: name it here instead.
  if ('__shared' in generated.schemas)
    throw new Error(`componentSchemas: name every schema with an id as well: ${Object.keys(generated.schemas.__shared).join(', ')}`);
  return Object.fromEntries(
    Object.entries(generated.schemas).map(([id, schema]) => {
      // Each lives inside a document, not on its own: no dialect or identifier of its own.
      const { $schema: _dialect, $id: _id, ...rest } = schema as JsonObject;
      return [id, rest];
    }),
  );
}
