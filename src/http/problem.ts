import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import {
  AppError,
  type ErrorCode,
  errorStatus,
  type FieldError,
  isTransientError,
} from '../lib/errors.js';
import type { AppEnv } from './types.js';

const titles: Record<ErrorCode, string> = {
  validation_error: 'The request has invalid fields',
  malformed_json: 'The body is not valid JSON',
  unsupported_media_type: 'The body must be application/json',
  payload_too_large: 'The body is too large',
  unauthorized: 'Valid credentials are required',
  not_found: 'No such resource',
  method_not_allowed: 'Method not allowed',
  idempotency_key_missing: 'Idempotency-Key header is required',
  idempotency_key_invalid: 'Idempotency-Key header is invalid',
  idempotency_key_in_flight: 'A request with this Idempotency-Key is in progress',
  idempotency_key_reused: 'This Idempotency-Key was used with a different request',
  account_not_empty: 'The account has a balance or pending transfers',
  account_reference_taken: 'Another account of this tenant has this reference',
  unavailable: 'A backing service is unavailable; try again',
  internal_error: 'Internal error',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  errors?: FieldError[];
}

export function problemBody(error: AppError, requestId: string): Problem {
  const body: Problem = {
    type: `urn:fintech-core:problem:${error.code}`,
    title: titles[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestId,
  };
  if (error.errors) body.errors = error.errors;
  return body;
}

export function problemResponse(c: Context<AppEnv>, error: AppError): Response {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (error.retryable) headers['retry-after'] = '1';
  if (error.challenge) headers['www-authenticate'] = error.challenge;
  return new Response(JSON.stringify(problemBody(error, c.get('requestId'))), {
    status: error.status,
    headers,
  });
}

/**
 * Turns anything thrown into problem+json. Known errors keep their code;
 * Hono's own HTTP errors map to the nearest code; everything else is a 500
 * whose body says nothing of the cause, which goes to the log instead.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 400) return new AppError('malformed_json', 'the body is not valid JSON');
    if (error.status === 413) return new AppError('payload_too_large', 'the body is too large');
    if (error.status === 401) {
      // The basic auth of the operator routes says how to authenticate.
      const challenge = error.getResponse().headers.get('www-authenticate') ?? undefined;
      return new AppError(
        'unauthorized',
        challenge ? 'valid operator credentials are required' : 'a valid API key is required',
        { challenge },
      );
    }
    const code = (Object.keys(errorStatus) as ErrorCode[]).find(
      (name) => errorStatus[name] === error.status,
    );
    if (code) return new AppError(code, error.message || titles[code]);
  }
  if (isTransientError(error)) {
    return new AppError('unavailable', 'a backing service is unavailable; try again', {
      retryable: true,
      cause: error,
    });
  }
  return new AppError('internal_error', 'the request could not be completed', { cause: error });
}
