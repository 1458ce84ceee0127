/**
 * Calls the API of a web process at `base` with a tenant's key: JSON in and
 * out, with an Idempotency-Key when one is given.
 */
export async function callApi<T>(
  base: string,
  key: string,
  request: { method: string; path: string; body?: unknown; idempotencyKey?: string },
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
  const response = await fetch(`${base}${request.path}`, {
    method: request.method,
    headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  return { status: response.status, body: (await response.json()) as T };
}
