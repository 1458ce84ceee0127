import { afterAll, describe, expect, it } from 'vitest';
import { createSql } from '../../src/db/sql.js';
import { createAcceptancePool } from '../../src/services/transfers.js';
import { testConfig } from '../support/env.js';

const config = testConfig();
const pool = createSql(config, { max: 1 });
const acceptPool = createAcceptancePool(config);
afterAll(() => Promise.all([pool.end(), acceptPool.end()]));

describe('connection settings', () => {
  it('has PostgreSQL end a session left idle inside a transaction', async () => {
    const [row] = await pool<{ timeout: string }[]>`
      select current_setting('idle_in_transaction_session_timeout') as timeout`;
    expect(row?.timeout).toBe('10s');
  });

  it('lets acceptance statements wait for a lock only briefly', async () => {
    const [row] = await acceptPool<{ timeout: string }[]>`
      select current_setting('lock_timeout') as timeout`;
    expect(row?.timeout).toBe('100ms');
  });
});
