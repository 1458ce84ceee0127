import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';
import { freePort } from '../../src/lib/free-port.js';
import { configEnv } from './env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  name: string;
  process: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
}

/**
 * Starts a process of the project (`src/server.ts`, `workers/transfers.ts`,
 * ...) as an operator would, with only the environment given. Output goes to
 * a log file, so that a failing test can point at it.
 */
export function startChild(name: string, entry: string, env: Record<string, string>): Child {
  const logDir = mkdtempSync(join(tmpdir(), 'fintech-core-test-'));
  const logPath = join(logDir, `${name}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { name, process: child, logPath, exited };
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<number | null> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.exited;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

export async function killChild(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exited;
}

/** Polls a child's log until a line matches `pattern`. */
export async function waitForLine(child: Child, pattern: RegExp, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(child.logPath) && pattern.test(readFileSync(child.logPath, 'utf8'))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.name} logged nothing matching ${pattern}`);
}

/** Polls a URL until it answers 200. */
export async function waitForOk(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not become ready in ${timeoutMs} ms`);
}

/**
 * A web process of `config` on a free port of 127.0.0.1, once it answers
 * `waitFor` (`/readyz` unless told) with 200.
 */
export async function startWeb(
  config: Config,
  waitFor = '/readyz',
): Promise<{ web: Child; port: number }> {
  const port = await freePort();
  const web = startChild('web', 'src/server.ts', {
    ...configEnv(config),
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  await waitForOk(`http://127.0.0.1:${port}${waitFor}`);
  return { web, port };
}

/**
 * A Redis server of the test's own on 127.0.0.1:`port`, keeping nothing on
 * disk, for tests that stop Redis under a process. Resolves once it accepts
 * connections.
 */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`redis-server exited with ${server.exitCode}`);
    if (await accepts(port)) return server;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  server.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not start`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
