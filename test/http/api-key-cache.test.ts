import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createSql } from '../../src/db/sql.js';
import { ApiKeyCache } from '../../src/http/api-key-cache.js';
import { createLogger } from '../../src/logger.js';
import { testConfig } from '../support/env.js';

const caller = { tenantId: 'ten_a', keyId: 'key_a' };

describe('API key cache', () => {
  it('keeps a look-up, and drops it when its key is revoked', async () => {
    const cache = new ApiKeyCache();
    let loads = 0;
    const load = async () => {
      loads += 1;
      return caller;
    };
    expect(await cache.lookup('secret', load)).toEqual(caller);
    expect(await cache.lookup('secret', load)).toEqual(caller);
    expect(loads).toBe(1);
    cache.evict('key_other');
    await cache.lookup('secret', load);
    expect(loads).toBe(1);
    cache.evict('key_a');
    await cache.lookup('secret', load);
    expect(loads).toBe(2);
  });

  it('reads again when a revocation is heard during a look-up, and keeps that answer', async () => {
    const cache = new ApiKeyCache();
    const answers: (typeof caller | undefined)[] = [caller, undefined];
    let loads = 0;
    // The first read saw the key live; the revocation commits and is heard
    // before that read's answer arrives.
    const revokedMeanwhile = async () => {
      loads += 1;
      if (loads === 1) cache.evict('key_a');
      return answers[loads - 1];
    };
    expect(await cache.lookup('secret', revokedMeanwhile)).toBeUndefined();
    expect(loads).toBe(2);
    expect(await cache.lookup('secret', revokedMeanwhile)).toBeUndefined();
    expect(loads).toBe(2);
  });

  it('listens again after its connection is cut, dropping what it kept, and says so', async () => {
    const config = testConfig({ LOG_LEVEL: 'info' });
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const sql = createSql(config, { max: 2 });
    const cache = new ApiKeyCache();
    const following = cache.follow(sql, createLogger(config, 'test-web', destination));
    try {
      await following.ready;
      let loads = 0;
      const load = async () => {
        loads += 1;
        return caller;
      };
      await cache.lookup('secret', load);

      await sql`
        select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and query like 'listen %'`;
      const deadline = Date.now() + 5_000;
      while (
        !lines.some((line) => line.includes('was lost and is back')) &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      expect(lines.filter((line) => line.includes('was lost and is back'))).toHaveLength(1);
      await cache.lookup('secret', load);
      expect(loads).toBe(2);
    } finally {
      following.stop();
      await sql.end();
    }
  });
});
