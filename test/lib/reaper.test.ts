import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/reaped-parent.ts', import.meta.url));

const started: { parent: ChildProcess; dir: string; childPid?: number }[] = [];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a stand-in for the benchmark or the demo with one child, and returns
 * once the child handles SIGTERM: killed before, it would die of it without
 * a word.
 */
async function startParent(env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'fc-reaper-'));
  const marker = join(dir, 'marker');
  const parent = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, LOG_DIR: dir, MARKER: marker, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const record: (typeof started)[number] = { parent, dir };
  started.push(record);
  const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
  for (;;) {
    const ready = /^ready (\d+)$/.exec(await readFile(marker, 'utf8').catch(() => ''));
    if (ready) {
      record.childPid = Number(ready[1]);
      return { parent, childPid: record.childPid, exited, marker };
    }
    if (parent.exitCode !== null) throw new Error(`the stand-in exited with ${parent.exitCode}`);
    await pause(20);
  }
}

async function waitUntilGone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (isAlive(pid) && Date.now() < until) await pause(50);
  return !isAlive(pid);
}

afterEach(async () => {
  for (const { parent, childPid, dir } of started.splice(0)) {
    parent.kill('SIGKILL');
    if (childPid !== undefined && isAlive(childPid)) process.kill(childPid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

describe('children of a parent killed with SIGKILL', () => {
  it.each(['bench', 'demo'])('are stopped with SIGTERM (%s)', async (kind) => {
    const { parent, childPid, exited, marker } = await startParent({ PARENT: kind });
    parent.kill('SIGKILL');
    await exited;
    expect(await waitUntilGone(childPid, 5_000)).toBe(true);
    expect(await readFile(marker, 'utf8')).toBe('term');
  });

  it('are killed when still alive after the grace period', async () => {
    const { parent, childPid, exited, marker } = await startParent({
      PARENT: 'bench',
      GRACE_MS: '300',
      IGNORE_TERM: '1',
    });
    parent.kill('SIGKILL');
    await exited;
    expect(await waitUntilGone(childPid, 5_000)).toBe(true);
    expect(await readFile(marker, 'utf8')).toBe('term');
  });
});
