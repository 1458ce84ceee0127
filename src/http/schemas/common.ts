import { z } from '@hono/zod-openapi';

export const Metadata = z
  .record(z.string().max(40), z.union([z.string().max(500), z.number(), z.boolean(), z.null()]))
  .refine((value) => Object.keys(value).length <= 50, 'at most 50 keys')
  .openapi({ description: 'Up to 50 keys of your own, with short scalar values.' });

/** The ISO 4217 codes in circulation, as the runtime's ICU data knows them. */
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export const Currency = z
  .string()
  .refine((code) => CURRENCIES.has(code), 'an ISO 4217 currency code such as EUR')
  .openapi({ type: 'string', pattern: '^[A-Z]{3}$', example: 'EUR' });

/**
 * A positive integer. `int()` means a safe integer to zod, so it also bounds
 * the amount at 2^53 - 1, the largest JSON carries exactly; a `max` of that
 * value as well made zod report a larger amount twice, in different words.
 */
export const MinorUnits = z
  .number()
  .int()
  .min(1)
  .openapi({ description: 'Integer minor units (cents, hellers).', example: 1250 });

export const Timestamp = z.string().openapi({ format: 'date-time' });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/**
 * Query objects are strict: a parameter a route does not take answers 422
 * naming it, as an unknown body field does, so that a misspelt filter
 * (`?acount_id=`) is refused instead of listing everything. Routes that take
 * no parameters refuse any with the `noQuery` middleware.
 */
export const PageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    starting_after: z.string().min(1).max(64).optional(),
  })
  .strict();

export function listOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({ data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() })
    .openapi(name);
}

export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().optional().openapi({
    description: 'Makes the request safe to retry: 1 to 255 printable ASCII characters.',
  }),
});

/**
 * The same header where the route refuses a request without it. The schema
 * still lets it be missing, so that the route itself answers 400
 * `idempotency_key_missing`; only the document says it is required.
 */
export const RequiredIdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({
      param: { required: true },
      description:
        'Required. Makes the request safe to retry: 1 to 255 printable ASCII characters.',
    }),
});

export function idParam(prefix: string) {
  return z.object({
    // Any string: an id that cannot exist simply names nothing (404).
    id: z
      .string()
      .min(1)
      .openapi({
        param: { name: 'id', in: 'path' },
        example: `${prefix}_01hx0000000000000000000000`,
      }),
  });
}

const problemContent = { 'application/problem+json': { schema: Problem } };

/** The error answers every authenticated route can give. */
export const errorResponses = {
  400: { description: 'Malformed JSON or a bad Idempotency-Key', content: problemContent },
  401: { description: 'Missing or unknown API key', content: problemContent },
  404: { description: 'No such resource for this tenant', content: problemContent },
  413: { description: 'Body too large', content: problemContent },
  415: { description: 'Body is not JSON', content: problemContent },
  422: { description: 'Validation failed', content: problemContent },
  503: { description: 'A backing service is unavailable', content: problemContent },
} as const;

export const conflictResponse = {
  409: { description: 'Conflict with the current state', content: problemContent },
} as const;
