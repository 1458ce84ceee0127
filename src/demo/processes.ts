import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Reaper } from '../lib/reaper.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ProcessSpec {
  /** Unique within a run: names the log file, e.g. `worker-2`. */
  name: string;
  /** Entry file relative to the repository root. */
  script: string;
}

/**
 * The processes an operator would start for this demo: one web process,
 * `workers` transfer workers, and the webhook deliverer once it exists.
 */
export function demoProcesses(workers: number): ProcessSpec[] {
  const specs: ProcessSpec[] = [{ name: 'web', script: 'src/server.ts' }];
  for (let n = 1; n <= workers; n++) {
    specs.push({ name: `worker-${n}`, script: 'workers/transfers.ts' });
  }
  if (existsSync(join(REPO_ROOT, 'workers/webhooks.ts'))) {
    specs.push({ name: 'webhooks', script: 'workers/webhooks.ts' });
  }
  return specs;
}

export interface StopResult {
  name: string;
  how: string;
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Starts the demo's child processes and makes sure none outlives the demo.
 * Each child runs TypeScript through tsx, gets only the environment given
 * (its configuration), and writes to `<logDir>/<name>.log`. Children are
 * put in a process group of their own, so that Ctrl-C reaches only the demo,
 * which then stops them in order: SIGTERM, and SIGKILL after a grace period.
 * Should the demo's process end without doing so (killed with SIGKILL, say),
 * a `Reaper` stops them. A child that exits while the demo still needs it
 * rejects `crashed`.
 */
export class Supervisor {
  readonly crashed: Promise<never>;
  readonly #running: Running[] = [];
  readonly #reaper = new Reaper();
  #stopping = false;
  #reportCrash: (error: Error) => void = () => {};

  constructor(
    readonly logDir: string,
    readonly env: Record<string, string>,
  ) {
    this.crashed = new Promise<never>((_, reject) => {
      this.#reportCrash = reject;
    });
    // Nobody may be waiting on it when a child dies during shutdown.
    this.crashed.catch(() => {});
  }

  start(spec: ProcessSpec): void {
    const log = openSync(this.logPath(spec), 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', spec.script], {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    this.#reaper.track(child);
    child.once('error', (error) => this.#reportCrash(new Error(`${spec.name}: ${error.message}`)));
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.once('exit', (code, signal) => this.#onExit(spec, code, signal));
    this.#running.push({ spec, child, exited });
  }

  logPath(spec: ProcessSpec): string {
    return join(this.logDir, `${spec.name}.log`);
  }

  /** Stops every child: SIGTERM, then SIGKILL for any still alive after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<StopResult[]> {
    this.#stopping = true;
    return Promise.all(this.#running.map((running) => stopOne(running, graceMs)));
  }

  /** Last resort when the demo itself is exiting: SIGKILL whatever is left, synchronously. */
  killNow(): void {
    for (const { child } of this.#running) {
      if (isAlive(child)) child.kill('SIGKILL');
    }
  }

  #onExit(spec: ProcessSpec, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    this.#reportCrash(new Error(`${spec.name} exited with ${how}; see ${this.logPath(spec)}`));
  }
}

async function stopOne({ spec, child, exited }: Running, graceMs: number): Promise<StopResult> {
  if (!isAlive(child)) return { name: spec.name, how: 'had already exited' };
  const started = Date.now();
  let forced = false;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    forced = isAlive(child);
    if (forced) child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
  const how = forced ? 'killed (SIGKILL)' : 'stopped on SIGTERM';
  return { name: spec.name, how: `${how} in ${Date.now() - started} ms` };
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
