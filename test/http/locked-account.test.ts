import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newTenant,
  openAccount,
  postTransfer,
  startTestApp,
  type TestApp,
} from '../support/app.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('an account row held by a long transaction', () => {
  it('holds up no acceptance, of its tenant or another', async () => {
    const held = await newTenant(app.sql, 'held');
    const other = await newTenant(app.sql, 'other');
    const heldAccounts = [await openAccount(app, held.key), await openAccount(app, held.key)];
    const otherAccounts = [await openAccount(app, other.key), await openAccount(app, other.key)];
    const transfer = (key: string, [source, destination]: string[], idempotencyKey: string) =>
      postTransfer(app, key, idempotencyKey, {
        source: source ?? '',
        destination: destination ?? '',
      });

    // A session (an operator's query, a stuck client) holds the destination's row.
    const holder = await app.sql.reserve();
    try {
      await holder`begin`;
      await holder`select id from accounts where id = ${heldAccounts[1] ?? ''} for update`;
      const answers = Promise.all([
        transfer(held.key, heldAccounts, 'into-held'),
        transfer(other.key, otherAccounts, 'elsewhere'),
      ]);
      const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5_000));
      const settled = await Promise.race([answers, late]);
      expect(settled === 'late' ? settled : settled.map((answer) => answer.status)).toEqual([
        202, 202,
      ]);
    } finally {
      await holder`rollback`;
      holder.release();
    }
  });
});
