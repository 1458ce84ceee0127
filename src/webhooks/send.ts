import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { PinnedAddress } from './url-safety.js';

/** How much of a receiver's answer is kept. */
export const RESPONSE_BODY_LIMIT = 1024;

export interface WebhookRequest {
  url: URL;
  /** When set, the connection goes to this address whatever DNS says now. */
  pinned: PinnedAddress | undefined;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface SendResult {
  statusCode: number | null;
  durationMs: number;
  /** Why no answer came (timeout, refused connection), or null. */
  error: string | null;
  responseBody: string | null;
  retryAfter: string | undefined;
}

/**
 * A name lookup that answers with the address checked beforehand. The URL's
 * host still names the request (Host header, TLS server name and certificate
 * check); only the address it connects to is fixed.
 */
function pinnedLookup(pinned: PinnedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
}

/**
 * POSTs a webhook once. Never throws: a timeout, a refused connection or a
 * broken answer comes back as `error`. The whole exchange, answer included,
 * must finish within `timeoutMs`; only the first RESPONSE_BODY_LIMIT bytes of
 * the answer are read. Redirects are not followed (a 3xx is a failure), so a
 * receiver cannot send the request on to an address that was not checked.
 */
export function sendWebhook(request: WebhookRequest): Promise<SendResult> {
  const started = performance.now();
  const client = request.url.protocol === 'https:' ? https : http;

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let statusCode: number | null = null;
    let retryAfter: string | undefined;
    const chunks: Buffer[] = [];
    let size = 0;

    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      const text =
        chunks.length > 0 ? Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT) : null;
      resolve({
        statusCode,
        durationMs: Math.round(performance.now() - started),
        error: statusCode === null ? error : null,
        responseBody: text === null ? null : cleanText(text),
        retryAfter,
      });
    };

    const req = client.request(request.url, {
      method: 'POST',
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(request.body)),
        'user-agent': 'fintech-core-webhooks/1',
      },
      agent: false,
      ...(request.pinned ? { lookup: pinnedLookup(request.pinned) } : {}),
    });
    const timer = setTimeout(
      () => finish(`no answer within ${request.timeoutMs} ms`),
      request.timeoutMs,
    );

    req.on('response', (res) => {
      statusCode = res.statusCode ?? null;
      const header = res.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_BODY_LIMIT) finish(null);
      });
      res.on('end', () => finish(null));
      res.on('error', () => finish(null));
      res.on('close', () => finish(null));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish(describeError(error)));
    req.end(request.body);
  });
}

function describeError(error: NodeJS.ErrnoException): string {
  return error.code ? `${error.code}: ${error.message}` : error.message;
}

/** Text PostgreSQL can store: UTF-8 without NUL characters. */
function cleanText(bytes: Buffer): string {
  return bytes.toString('utf8').replaceAll('\u0000', '');
}
