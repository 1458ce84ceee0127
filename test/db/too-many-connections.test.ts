import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { createSql } from '../../src/db/sql.js';
import { isTransientError } from '../../src/lib/errors.js';
import { TEST_DATABASE_URL } from '../support/env.js';

// A server out of connection slots refuses a pool (SQLSTATE 53300) until
// others close: an outage, which requests answer as retryable and a worker
// counts towards standing aside, not a bug in the request. A role allowed no
// connection at all is refused the same way, every time.
it('counts a connection refused for too many connections as an outage', async () => {
  const admin = createSql({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_POOL_SIZE: 1 });
  const role = `fc_no_slots_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create role ${role} login connection limit 0`);
  const url = new URL(TEST_DATABASE_URL);
  url.username = role;
  const refused = createSql({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: 1 });
  try {
    const error = await refused`select 1`.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ code: '53300' });
    expect(isTransientError(error)).toBe(true);
  } finally {
    await refused.end({ timeout: 1 });
    await admin.unsafe(`drop role ${role}`);
    await admin.end({ timeout: 5 });
  }
});
