import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcUsage {
  /** User plus system CPU time, in seconds, since the process started. */
  cpuSeconds: number;
  rssKb: number;
  /** Peak resident set size since the process started (VmHWM). */
  peakRssKb: number;
}

const TICKS_PER_SECOND = clockTicks();

/** CPU time and memory of one process from /proc; undefined once it is gone. */
export function readUsage(pid: number): ProcUsage | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      cpuSeconds: ticks / TICKS_PER_SECOND,
      rssKb: statusField(status, 'VmRSS'),
      peakRssKb: statusField(status, 'VmHWM'),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of the whole machine, summed over its cores (/proc/stat):
 * busy (everything but idle and I/O wait, steal included) and steal (time the
 * hypervisor gave this virtual machine's cores to someone else).
 */
export function readMachineCpu(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, steal: (ticks[7] ?? 0) / TICKS_PER_SECOND };
}

/** Process ids whose command name is exactly `name` (read from /proc/<pid>/comm). */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

function statusField(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

function clockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}
