import fc from 'fast-check';

/**
 * Input an adversary sends (issue #11), for property tests of every route: strings of any code
 * points with lone UTF-16 surrogates among them (fast-check's `binary` unit has none), JSON of any
 * shape, some nested hundreds deep, and numbers no JavaScript number holds.
 */
export const hostileUnit = fc.oneof(fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));

export const hostileString = (maxLength = 40, minLength = 0) => fc.string({ unit: hostileUnit, minLength, maxLength });

const deep = fc.nat({ max: 200 }).map((depth) => JSON.parse('['.repeat(depth) + '"x"' + ']'.repeat(depth)) as unknown);
const hugeNumber = fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '0.0000000000000000000000000001e-999');

/** A request body as sent: the text of any JSON value, or a plausible body holding a huge number. */
export const hostileJsonText = fc.oneof(
  fc.oneof(fc.anything({ stringUnit: hostileUnit, maxDepth: 4 }), fc.jsonValue({ stringUnit: hostileUnit }), deep).map((v) => JSON.stringify(v) ?? 'null'),
  hugeNumber.map((n) => `{"size":${n},"filename":"n.bin","contentType":"text/plain","partNumbers":[${n}],"url":"https://example.com","events":["*"]}`),
);

/** Any JSON value with hostile strings, as an object to post. */
export const hostileJson = (maxDepth = 3) => fc.jsonValue({ stringUnit: hostileUnit, maxDepth });
