import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../lib/errors.js';
import { findRepeatedKey } from '../../lib/json-keys.js';
import { findInvalidText, type TextProblem } from '../../lib/storable-text.js';
import type { AppEnv } from '../types.js';

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Checks a request body before any route sees it: JSON media type (415),
 * size (413, answered after the body is drained so the client reads the
 * answer instead of a reset connection), syntax (400), and text that
 * PostgreSQL could not store or JavaScript would drop, or a name given twice
 * in one object (422). An empty body is no body: the route answers as it does
 * to a request without one.
 */
export function jsonBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const request = c.req.raw;
    if (!METHODS_WITH_BODY.has(c.req.method) || !mayHaveBody(request)) return next();

    // Read first: without a Content-Length (chunked, or no framing at all,
    // which HTTP/1.1 reads as empty, as `curl -X POST` sends) only reading
    // tells an empty body from another.
    const text = await readLimited(request, maxBytes);
    // Hono keeps body promises in this cache; priming it lets the route's
    // validator read the body this middleware has already consumed.
    if (text !== undefined) Object.assign(c.req.bodyCache, { text: Promise.resolve(text) });
    if (text === '') return next();

    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      throw new AppError('unsupported_media_type', 'send the body as application/json');
    }
    if (text === undefined) {
      throw new AppError('payload_too_large', `the body must not exceed ${maxBytes} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AppError('malformed_json', 'the body is not valid JSON');
    }
    const problem = findInvalidText(parsed) ?? repeatedKey(text);
    if (problem) {
      throw new AppError('validation_error', 'the request has invalid fields', {
        errors: [problem],
      });
    }
    await next();
  };
}

function repeatedKey(text: string): TextProblem | undefined {
  const field = findRepeatedKey(text);
  return field === undefined ? undefined : { field, message: 'given more than once' };
}

function mayHaveBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  if (length !== null) return Number(length) > 0;
  return request.body !== null;
}

/** The body as text, or undefined once it passes `maxBytes` (the rest is drained). */
async function readLimited(request: Request, maxBytes: number): Promise<string | undefined> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (Number(declared) > maxBytes) {
      await drain(request);
      return undefined;
    }
    // HTTP framing stops the body at its declared length, so it is read
    // whole, by the server's direct path rather than through a web stream.
    return request.text();
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await drainReader(reader);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const DRAIN_LIMIT = 16 * 1024 * 1024;

async function drain(request: Request): Promise<void> {
  if (request.body && !request.bodyUsed) await drainReader(request.body.getReader());
}

/**
 * Reads and drops what the client is still sending, up to a limit, so that
 * it gets to read the error answer. Past the limit the connection is closed.
 */
async function drainReader(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let drained = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      drained += value.byteLength;
      if (drained > DRAIN_LIMIT) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away; there is nobody left to answer.
  }
}
