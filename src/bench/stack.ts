import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { freePort } from '../lib/free-port.js';
import type { Runtime } from './args.js';
import { BUILD_DIR } from './build.js';
import { Children, type Role, type RunningChild } from './children.js';
import { configEnv } from './environment.js';

export interface StackOptions {
  config: Config;
  runtime: Runtime;
  /** Folder for .cpuprofile files; no profiling when undefined. */
  profileDir: string | undefined;
  /** Node flags of each role as the Procfile gives them (see `procfileNodeFlags`). */
  procfileFlags: Record<Role, string[]>;
  /** Extra Node flags for every process, after the Procfile's, so they win. */
  nodeFlags: string[];
  logDir: string;
}

export interface WebProcess {
  child: RunningChild;
  url: string;
}

const ENTRIES: Record<Role, { source: string; built: string }> = {
  web: { source: 'src/server.ts', built: 'src/server.js' },
  worker: { source: 'workers/transfers.ts', built: 'workers/transfers.js' },
};

const READY_TIMEOUT_MS = 60_000;

/**
 * The product's processes as an operator starts them: web processes on ports
 * of their own and transfer worker processes, all with the run's
 * configuration. Only what this class started is ever stopped.
 */
export class Stack {
  readonly children: Children;
  readonly webs: WebProcess[] = [];
  readonly workers: RunningChild[] = [];
  #started = 0;

  constructor(private readonly options: StackOptions) {
    this.children = new Children(options.logDir);
  }

  async startWeb(): Promise<WebProcess> {
    const port = await freePort();
    const name = `web-${this.webs.length + 1}`;
    const child = this.#spawn(name, 'web', { PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await this.#until(child, () => isReady(url));
    const web = { child, url };
    this.webs.push(web);
    return web;
  }

  /** Starts a worker process, named by how many were started before (`worker-3`). */
  async startWorker(): Promise<RunningChild> {
    const name = `worker-${++this.#started}`;
    const child = this.#spawn(name, 'worker', {});
    await this.#until(child, () => logSays(child.logPath, '"msg":"worker started"'));
    this.workers.push(child);
    return child;
  }

  /** Stops the most recently started worker (its jobs in hand finish first). */
  async stopWorker(): Promise<void> {
    const child = this.workers.pop();
    if (child) await this.children.stop(child);
  }

  async stop(): Promise<void> {
    await this.children.stopAll();
  }

  killNow(): void {
    this.children.killAll();
  }

  /** Every live child with its role, for the samplers. */
  processes(): { name: string; role: Role; pid: number }[] {
    return this.children
      .running()
      .map((child) => ({ name: child.spec.name, role: child.spec.role, pid: child.pid }));
  }

  #spawn(name: string, role: Role, env: Record<string, string>): RunningChild {
    const entry = ENTRIES[role];
    const script = this.options.runtime === 'dist' ? join(BUILD_DIR, entry.built) : entry.source;
    const loader = this.options.runtime === 'tsx' ? ['--import', 'tsx'] : [];
    const dir = this.options.profileDir;
    const profile = dir
      ? ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`]
      : [];
    return this.children.start({
      name,
      role,
      args: [
        ...this.options.procfileFlags[role],
        ...this.options.nodeFlags,
        ...profile,
        ...loader,
        script,
      ],
      env: configEnv(this.options.config, env),
    });
  }

  async #until(child: RunningChild, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const poll = async () => {
      while (Date.now() < deadline) {
        if (await ready()) return;
        await sleep(100);
      }
      throw new Error(`${child.spec.name} was not ready in time; see ${child.logPath}`);
    };
    await Promise.race([poll(), this.children.crashed]);
  }
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

async function logSays(path: string, text: string): Promise<boolean> {
  try {
    return (await readFile(path, 'utf8')).includes(text);
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
