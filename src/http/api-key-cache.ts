import type { Sql } from '../db/sql.js';
import type { Logger } from '../logger.js';
import type { Caller } from './types.js';

/** The channel the revocation trigger (migration 0011) notifies, with the key's id. */
export const API_KEY_REVOKED_CHANNEL = 'api_key_revoked';

const CACHE_MS = 5_000;
const CACHE_LIMIT = 10_000;

interface Entry {
  caller: Caller | undefined;
  until: number;
}

/**
 * API key look-ups of one web process, by presented secret, kept for
 * `CACHE_MS` (an unknown secret too, so that a flood of bad keys does not
 * reach PostgreSQL). While the process follows revocations (`follow`), a
 * revoked key is dropped the moment its revocation commits; otherwise, or
 * while the notice connection is down, within `CACHE_MS`.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();

  /** The cached answer for a secret, or undefined when it must be looked up. */
  get(secret: string, now: number): Entry | undefined {
    const entry = this.entries.get(secret);
    return entry && entry.until >= now ? entry : undefined;
  }

  set(secret: string, caller: Caller | undefined, now: number): Entry {
    if (this.entries.size >= CACHE_LIMIT) this.entries.clear();
    const entry = { caller, until: now + CACHE_MS };
    this.entries.set(secret, entry);
    return entry;
  }

  /** Forgets every secret of the key. */
  evict(keyId: string): void {
    for (const [secret, entry] of this.entries) {
      if (entry.caller?.keyId === keyId) this.entries.delete(secret);
    }
  }

  /**
   * Listens for revocations on a connection of its own, without waiting.
   * Each time the listen is made (at first, and after the connection comes
   * back) the cache is emptied, since a revocation may have gone unheard
   * meanwhile. A listen that fails is tried again every `retryMs` until
   * `stop`; `ready` resolves once the first listen is made. The listen
   * connection closes with `sql.end()`.
   */
  follow(sql: Sql, log: Logger, retryMs = 5_000): { ready: Promise<void>; stop(): void } {
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    let listened = () => {};
    const ready = new Promise<void>((resolve) => {
      listened = resolve;
    });
    const attempt = () => {
      sql
        .listen(
          API_KEY_REVOKED_CHANNEL,
          (keyId) => this.evict(keyId),
          () => this.entries.clear(),
        )
        .then(listened, (error: unknown) => {
          if (stopped) return;
          log.warn({ err: error, retryMs }, 'cannot listen for API key revocations; retrying');
          retry = setTimeout(attempt, retryMs);
          retry.unref();
        });
    };
    attempt();
    return {
      ready,
      stop() {
        stopped = true;
        clearTimeout(retry);
      },
    };
  }
}
