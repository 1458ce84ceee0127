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
  /** Revocation notices heard so far (and listens made, which empty the cache). */
  private notices = 0;

  /**
   * The caller a secret names, from the cache or else from `load`. A notice
   * heard while `load` ran may be of a revocation that committed after `load`
   * read the key: the answer is then read again, and kept only when no notice
   * came in between.
   */
  async lookup(
    secret: string,
    load: (secret: string) => Promise<Caller | undefined>,
    now = Date.now(),
  ): Promise<Caller | undefined> {
    const entry = this.entries.get(secret);
    if (entry && entry.until >= now) return entry.caller;
    let heard = this.notices;
    let caller = await load(secret);
    if (heard !== this.notices) {
      heard = this.notices;
      caller = await load(secret);
    }
    if (heard === this.notices) {
      if (this.entries.size >= CACHE_LIMIT) this.entries.clear();
      this.entries.set(secret, { caller, until: now + CACHE_MS });
    }
    return caller;
  }

  /** Forgets every secret of the key. */
  evict(keyId: string): void {
    this.notices += 1;
    for (const [secret, entry] of this.entries) {
      if (entry.caller?.keyId === keyId) this.entries.delete(secret);
    }
  }

  /** Forgets every secret. */
  clear(): void {
    this.notices += 1;
    this.entries.clear();
  }

  /**
   * Listens for revocations on a connection of its own, without waiting.
   * Each time the listen is made (at first, and after the connection comes
   * back) the cache is emptied, since a revocation may have gone unheard
   * meanwhile, and a listen after the first is logged: revocations went
   * unheard for a while. A listen that fails is tried again every `retryMs`
   * until `stop`; `ready` resolves once the first listen is made. The listen
   * connection closes with `sql.end()`.
   */
  follow(sql: Sql, log: Logger, retryMs = 5_000): { ready: Promise<void>; stop(): void } {
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    let listens = 0;
    let listened = () => {};
    const ready = new Promise<void>((resolve) => {
      listened = resolve;
    });
    const attempt = () => {
      sql
        .listen(
          API_KEY_REVOKED_CHANNEL,
          (keyId) => this.evict(keyId),
          () => {
            this.clear();
            listens += 1;
            if (listens > 1) {
              log.warn(
                'the connection listening for API key revocations was lost and is back; ' +
                  'cached key look-ups were dropped',
              );
            }
          },
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
