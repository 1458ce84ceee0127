/** Every stable error code the API can answer with, and its HTTP status. */
export const errorStatus = {
  validation_error: 422,
  malformed_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_key_missing: 400,
  idempotency_key_invalid: 400,
  idempotency_key_in_flight: 409,
  idempotency_key_reused: 422,
  account_not_empty: 409,
  account_reference_taken: 409,
  unavailable: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The one error type of the project. `code` is stable and public; `retryable`
 * says whether doing the same thing again may succeed (outages, lock
 * contention); `cause` keeps the underlying error for logs, never for clients.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly errors: FieldError[] | undefined;
  /** For a 401: how to authenticate (the `WWW-Authenticate` header), when the route says. */
  readonly challenge: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      retryable?: boolean;
      cause?: unknown;
      errors?: FieldError[];
      challenge?: string;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = errorStatus[code];
    this.retryable = options.retryable ?? false;
    this.errors = options.errors;
    this.challenge = options.challenge;
  }
}

const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  // The server ended a session left idle inside a transaction (a process that
  // froze): everything it did is rolled back, and running it again is safe.
  '25P03',
  '57P01',
  '57P02',
  '57P03',
  // No connection slot free (too_many_connections): nothing ran, and slots
  // free up as other sessions end.
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * True for faults that say nothing about the request itself: serialization
 * failures, deadlocks, lost or refused connections, a server shutting down.
 */
export function isTransientError(error: unknown): boolean {
  if (error instanceof AppError) return error.retryable;
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code))
  ) {
    return true;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /Connection is closed|connect ECONNREFUSED/.test(message);
}
