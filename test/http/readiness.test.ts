import { afterEach, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/db/sql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let app: TestApp | undefined;

/** A pool cut off without closing: it answers nothing, ever. */
const silent = (() => new Promise(() => {})) as unknown as Sql;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('/readyz', () => {
  it('is ready when PostgreSQL, the acceptance connections and Redis answer', async () => {
    app = await startTestApp();
    const response = await app.request('/readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { postgres: true, redis: true },
    });
  });

  // A connection cut off without closing answers nothing, ever: the pool the
  // acceptances use may be in that state while the other still answers.
  it('is not ready while the acceptance connections do not answer', async () => {
    app = await startTestApp({}, (deps) => ({ ...deps, acceptSql: silent }));
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'unavailable',
      checks: { postgres: false, redis: true },
    });
  });

  it('counts a probe of the acceptance connections that never settles as a stall', async () => {
    const stalls: number[] = [];
    app = await startTestApp({ DATABASE_STALL_MS: '1000' }, (deps) => ({
      ...deps,
      acceptSql: silent,
      onStall: (stalledMs) => stalls.push(stalledMs),
    }));
    expect((await app.request('/readyz')).status).toBe(503);
    expect(stalls).toEqual([1000]);
  });

  it('counts a probe of the reads pool that never settles as a stall', async () => {
    const stalls: number[] = [];
    app = await startTestApp({ DATABASE_STALL_MS: '1000' }, (deps) => ({
      ...deps,
      sql: silent,
      onStall: (stalledMs) => stalls.push(stalledMs),
    }));
    expect((await app.request('/readyz')).status).toBe(503);
    expect(stalls).toEqual([1000]);
  });
});
