import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('reaches local PostgreSQL and Redis with no settings at all', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/fintech_core');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.IDEMPOTENCY_TTL_HOURS).toBe(24);
  });

  it('names every bad variable in one error', () => {
    expect(() => loadConfig({ PORT: 'eighty', PARTITIONS: '0' })).toThrow(/PORT.*PARTITIONS/);
  });

  it('reads a compressed webhook retry schedule', () => {
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE_MS: '0,10,20' }).WEBHOOK_RETRY_SCHEDULE_MS).toEqual([
      0, 10, 20,
    ]);
  });
});

describe('a process started with a bad setting', () => {
  it('prints one line naming it and exits with status 2', async () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const started = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty' },
    });
    await expect(started).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^configuration error: invalid configuration: PORT: [^\n]+\n$/),
    });
  });
});
