import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Reaper } from '../lib/reaper.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Role = 'web' | 'worker';

export interface ChildSpec {
  /** Unique within a run, such as `worker-2`; names its log and profile. */
  name: string;
  role: Role;
  /** Node arguments: flags, then the entry file (relative to the repository root). */
  args: string[];
  env: Record<string, string>;
}

export interface RunningChild {
  spec: ChildSpec;
  pid: number;
  logPath: string;
  exited: Promise<void>;
}

interface Entry {
  child: ChildProcess;
  handle: RunningChild;
  stopping: boolean;
}

/**
 * The processes a run started, and only those. Each child gets a process
 * group of its own, so Ctrl-C reaches the benchmark alone, which then stops
 * its children in order; `killAll` is the synchronous last resort when the
 * benchmark itself is exiting, and a `Reaper` stops them should the
 * benchmark's process end without either (killed with SIGKILL, say). A child
 * that exits while the run still needs it rejects `crashed`.
 */
export class Children {
  readonly crashed: Promise<never>;
  readonly #entries: Entry[] = [];
  readonly #reaper: Reaper;
  #reportCrash: (error: Error) => void = () => {};

  constructor(
    readonly logDir: string,
    options: { reaperGraceMs?: number } = {},
  ) {
    this.#reaper = new Reaper(options.reaperGraceMs);
    this.crashed = new Promise<never>((_, reject) => {
      this.#reportCrash = reject;
    });
    this.crashed.catch(() => {});
  }

  start(spec: ChildSpec): RunningChild {
    const logPath = join(this.logDir, `${spec.name}.log`);
    const log = openSync(logPath, 'a');
    const child = spawn(process.execPath, spec.args, {
      cwd: REPO_ROOT,
      env: spec.env,
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`${spec.name} did not start`);
    this.#reaper.track(child);

    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const entry: Entry = {
      child,
      handle: { spec, pid: child.pid, logPath, exited },
      stopping: false,
    };
    child.once('error', (error) => this.#reportCrash(new Error(`${spec.name}: ${error.message}`)));
    child.once('exit', (code, signal) => {
      if (entry.stopping) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      this.#reportCrash(new Error(`${spec.name} exited with ${how}; see ${logPath}`));
    });
    this.#entries.push(entry);
    return entry.handle;
  }

  /** The children still alive, in the order they were started. */
  running(): RunningChild[] {
    return this.#entries.filter((entry) => isAlive(entry.child)).map((entry) => entry.handle);
  }

  /** Stops one child: SIGTERM, then SIGKILL if it is still alive after `graceMs`. */
  async stop(handle: RunningChild, graceMs = 15_000): Promise<'stopped' | 'killed' | 'gone'> {
    const entry = this.#entries.find((candidate) => candidate.handle === handle);
    if (!entry || !isAlive(entry.child)) return 'gone';
    entry.stopping = true;
    entry.child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = isAlive(entry.child);
      if (killed) entry.child.kill('SIGKILL');
    }, graceMs);
    await handle.exited;
    clearTimeout(timer);
    return killed ? 'killed' : 'stopped';
  }

  async stopAll(graceMs = 15_000): Promise<void> {
    await Promise.all(this.#entries.map((entry) => this.stop(entry.handle, graceMs)));
  }

  /** Synchronous SIGKILL of every child still alive, for an exiting benchmark. */
  killAll(): void {
    for (const entry of this.#entries) {
      entry.stopping = true;
      if (isAlive(entry.child)) entry.child.kill('SIGKILL');
    }
  }
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
