import type { AttemptRow, DeliveryRow, EndpointRow } from '../data/webhooks.js';

function time(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

/**
 * The public shape of an endpoint. The signing secret is never part of it:
 * only the answers that create it (create, rotate) add it, once.
 */
export function endpointView(row: EndpointRow) {
  return {
    id: row.id,
    object: 'webhook_endpoint' as const,
    url: row.url,
    description: row.description,
    event_types: row.eventTypes,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    previous_secret_expires_at:
      row.previousSecret !== null && row.previousSecretExpiresAt !== null
        ? row.previousSecretExpiresAt.toISOString()
        : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    disabled_at: time(row.disabledAt),
    deleted: row.deletedAt !== null,
  };
}

/** The endpoint with its current secret, for the answers that issue one. */
export function endpointWithSecretView(row: EndpointRow) {
  return { ...endpointView(row), secret: row.secret };
}

export function attemptView(row: AttemptRow) {
  return {
    attempt: row.attempt,
    manual: row.manual,
    started_at: row.startedAt.toISOString(),
    duration_ms: row.durationMs,
    succeeded: row.succeeded,
    status_code: row.statusCode,
    error: row.error,
    response_body: row.responseBody,
  };
}

export function deliveryView(row: DeliveryRow, attempts: AttemptRow[]) {
  return {
    id: row.id,
    object: 'webhook_delivery' as const,
    endpoint_id: row.endpointId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempt_count: row.attempts,
    next_attempt_at: time(row.nextAttemptAt),
    failure_reason: row.failureReason,
    created_at: row.createdAt.toISOString(),
    completed_at: time(row.completedAt),
    attempts: attempts.map(attemptView),
  };
}

export type EndpointView = ReturnType<typeof endpointView>;
export type DeliveryView = ReturnType<typeof deliveryView>;
