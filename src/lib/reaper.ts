import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';

/** How long the reaper waits after SIGTERM before it sends SIGKILL. */
export const REAPER_GRACE_MS = 10_000;

/**
 * Run by the reaper's own process. Each line it reads is `+pid` for a child
 * its parent started or `-pid` for one that has exited. When its input ends
 * while children are still listed, the parent died without stopping them:
 * it sends SIGTERM to each one's process group, then SIGKILL to the groups
 * still alive after the grace period given as its argument, and exits once
 * none is left.
 */
const REAPER_SCRIPT = `
const graceMs = Number(process.argv[1]);
const listed = new Set();
let rest = '';
const signal = (pid, name) => {
  try { process.kill(-pid, name); return true; } catch { return false; }
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  for (const line of lines) {
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (line[0] === '+') listed.add(pid);
    else listed.delete(pid);
  }
});
process.stdin.on('end', () => {
  let alive = [...listed].filter((pid) => signal(pid, 'SIGTERM'));
  const until = Date.now() + graceMs;
  const check = setInterval(() => {
    alive = alive.filter((pid) => signal(pid, 0));
    if (alive.length > 0 && Date.now() < until) return;
    for (const pid of alive) signal(pid, 'SIGKILL');
    clearInterval(check);
  }, 100);
});
`;

/**
 * Stops the children of a process (the benchmark, the demo) that could not
 * stop them itself. Such a process starts each child in a process group of
 * its own, so that Ctrl-C reaches it alone; killed with SIGKILL, or ended by
 * a crash of Node itself, it would leave them running. The reaper is a small
 * process of its own, in a group of its own, that reads from a pipe its
 * parent holds: the pipe closes when the parent's process ends, however it
 * ends, and the reaper then stops the children still listed.
 */
export class Reaper {
  readonly #child: ChildProcess;
  readonly #input: Socket | undefined;

  constructor(graceMs = REAPER_GRACE_MS) {
    this.#child = spawn(process.execPath, ['-e', REAPER_SCRIPT, String(graceMs)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    this.#input = (this.#child.stdin as Socket | null) ?? undefined;
    // Neither the process nor its pipe keeps the parent's event loop alive.
    this.#child.unref();
    this.#input?.unref();
    // A reaper that failed to start, or died, leaves its parent as it was
    // without one: writing to it must not fail the parent.
    this.#input?.on('error', () => {});
    this.#child.on('error', () => {});
  }

  /**
   * Lists a child to stop should the parent end without stopping it, and
   * takes it off the list once it has exited.
   */
  track(child: ChildProcess): void {
    const pid = child.pid;
    if (pid === undefined) return;
    this.#write(`+${pid}\n`);
    child.once('exit', () => this.#write(`-${pid}\n`));
  }

  #write(line: string): void {
    if (this.#input && !this.#input.destroyed) this.#input.write(line);
  }
}
