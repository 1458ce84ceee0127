import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configEnv, TEST_DATABASE_URL, testConfig } from '../support/env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** Runs the operator CLI as `npm run cli -- ...` would; answers its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith({}, ...args);
}

async function cliWith(
  overrides: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', ...configEnv(testConfig(overrides)) };
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the operator CLI', () => {
  it('creates a tenant, then another key for it', async () => {
    const created = await cli('tenant', 'create', '--name', 'CLI test', '--json');
    expect(created.code).toBe(0);
    const { tenant_id: tenantId } = JSON.parse(created.stdout) as { tenant_id: string };
    const key = await cli('key', 'create', '--tenant', tenantId, '--json');
    expect(key.code).toBe(0);
    expect(JSON.parse(key.stdout)).toMatchObject({ tenant_id: tenantId });
  });

  it('says to migrate when the database has not been', async () => {
    const absent = TEST_DATABASE_URL.replace(/\/[^/]+$/, '/fintech_core_test_never_created');
    const answer = await cliWith({ DATABASE_URL: absent }, 'tenant', 'create', '--name', 'X');
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain('run `npm run migrate`');
  });

  it('refuses an option given twice rather than taking the last', async () => {
    const answer = await cli('tenant', 'create', '--name', 'A', '--name', 'B');
    expect(answer).toEqual({ code: 2, stdout: '', stderr: 'give --name once\n' });
  });

  it('answers a missing value or an unknown option with the usage, exit 2', async () => {
    for (const args of [
      ['tenant', 'create', '--name'],
      ['tenant', 'create', '--colour', 'x'],
    ]) {
      const answer = await cli(...args);
      expect([args, answer.code, answer.stdout]).toEqual([args, 2, '']);
      expect(answer.stderr).toContain('usage:');
    }
  });

  it('says so when the tenant of a new key does not exist', async () => {
    const answer = await cli('key', 'create', '--tenant', 'ten_nope');
    expect(answer).toEqual({ code: 1, stdout: '', stderr: 'no such tenant: ten_nope\n' });
  });
});
