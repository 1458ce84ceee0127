import { readFile } from 'node:fs/promises';
import type { Role } from './children.js';

/** The Procfile's process type for each role the benchmark starts. */
const PROCESS_TYPES: Record<Role, string> = { web: 'web', worker: 'worker' };

/**
 * The Node flags the Procfile gives a process type (`web: node --flag
 * dist/src/server.js` gives `['--flag']`), so that the benchmark runs each
 * process with the flags an operator's would have.
 */
export function procfileNodeFlags(procfile: string, role: Role): string[] {
  const type = PROCESS_TYPES[role];
  const line = procfile
    .split('\n')
    .map((text) => text.trim())
    .find((text) => text.startsWith(`${type}:`));
  if (!line) throw new Error(`the Procfile has no ${type} process`);
  const [command, ...args] = line
    .slice(type.length + 1)
    .trim()
    .split(/\s+/);
  if (command !== 'node') throw new Error(`the Procfile's ${type} process does not run node`);
  const flags: string[] = [];
  for (const arg of args) {
    if (!arg.startsWith('--')) break;
    flags.push(arg);
  }
  return flags;
}

export async function readProcfileNodeFlags(path: string): Promise<Record<Role, string[]>> {
  const procfile = await readFile(path, 'utf8');
  return { web: procfileNodeFlags(procfile, 'web'), worker: procfileNodeFlags(procfile, 'worker') };
}

export function nodeFlagsLine(procfile: Record<Role, string[]>, extra: string[]): string {
  const shown = (flags: string[]) => (flags.length > 0 ? flags.join(' ') : 'none');
  return (
    `node flags: web ${shown(procfile.web)}, worker ${shown(procfile.worker)} (from the ` +
    `Procfile); added by --node-flags: ${shown(extra)}`
  );
}
