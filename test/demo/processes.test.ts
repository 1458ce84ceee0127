import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/demo/processes.js';

const fixture = (name: string) => ({ name, script: `test/demo/child-processes/${name}.ts` });

/** The log folders of this file's supervisors, removed when its tests end. */
const logFolders: string[] = [];
afterAll(() => Promise.all(logFolders.map((dir) => rm(dir, { recursive: true, force: true }))));

async function supervisor(): Promise<Supervisor> {
  const dir = await mkdtemp(join(tmpdir(), 'fcdemo-test-'));
  logFolders.push(dir);
  return new Supervisor(dir, {});
}

/** Waits until the process has written `text`, i.e. it is running its own code. */
async function waitForOutput(processes: Supervisor, name: string, text: string): Promise<void> {
  const path = processes.logPath(fixture(name));
  for (let waited = 0; waited < 30_000; waited += 100) {
    const output = await readFile(path, 'utf8').catch(() => '');
    if (output.includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} never wrote "${text}"`);
}

describe('Supervisor', () => {
  it('stops a process on SIGTERM and kills one that ignores it', async () => {
    const processes = await supervisor();
    processes.start(fixture('stops-on-sigterm'));
    processes.start(fixture('ignores-sigterm'));
    await waitForOutput(processes, 'ignores-sigterm', 'started');
    await waitForOutput(processes, 'stops-on-sigterm', 'started');

    const stopped = await processes.stopAll(1_000);

    expect(stopped.map((result) => result.name)).toEqual(['stops-on-sigterm', 'ignores-sigterm']);
    expect(stopped[0]?.how).toMatch(/^stopped on SIGTERM/);
    expect(stopped[1]?.how).toMatch(/^killed \(SIGKILL\)/);
  });

  it('reports a process that exits while it is still needed, and keeps its output', async () => {
    const processes = await supervisor();
    const spec = fixture('exits-early');

    processes.start(spec);

    await expect(processes.crashed).rejects.toThrow(/exits-early exited with code 3/);
    expect(await readFile(processes.logPath(spec), 'utf8')).toContain('giving up');
    await processes.stopAll();
  });
});
