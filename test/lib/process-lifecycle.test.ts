import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/stopping-process.ts', import.meta.url));

/** Starts the fixture, stops it with SIGTERM once it has started, and reads what it wrote. */
async function stopFixture(rejectWith: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, REJECT_WITH: rejectWith },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('fixture started')) resolve();
    });
  });
  child.kill('SIGTERM');
  const exitCode = await code;
  const lines = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: number; msg: string });
  return { exitCode, stderr, lines };
}

describe('a process that is stopping', () => {
  it('logs a Redis command dropped by a closed connection, and exits 0', async () => {
    const { exitCode, stderr, lines } = await stopFixture('Connection is closed.');
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(lines.map((line) => line.msg)).toEqual([
      'fixture started',
      'fixture stopping',
      'fixture stopped',
      'a Redis command was dropped as its connection closed',
    ]);
  });

  it('logs any other unhandled rejection as an error, and exits 1', async () => {
    const { exitCode, stderr, lines } = await stopFixture('something else went wrong');
    expect(stderr).toBe('');
    expect(exitCode).toBe(1);
    const last = lines.at(-1);
    expect(last).toMatchObject({
      level: 50,
      msg: 'unhandled rejection while fixture was stopping',
    });
  });
});
