import type { LoadRun } from './scenario.js';

export interface GroupUse {
  group: string;
  /** Mean CPU over the run in cores (1 = one core), summed over the group's processes. */
  cores: number;
  /** The busiest single process of the group, in cores. */
  busiestProcess: number;
}

export interface Saturation {
  machineCores: number;
  machineBusy: number;
  groups: GroupUse[];
  verdict: string;
}

const GROUPS: { group: string; matches: (name: string) => boolean }[] = [
  { group: 'web', matches: (name) => name.startsWith('web-') },
  { group: 'workers', matches: (name) => name.startsWith('worker-') },
  { group: 'postgres', matches: (name) => name === 'postgres' },
  { group: 'redis', matches: (name) => name === 'redis' },
  { group: 'load generator', matches: (name) => name === 'bench' },
  { group: 'other processes on the host', matches: (name) => name === 'other' },
];

/**
 * Which resource ran out during a run, from the CPU samples: the machine's
 * cores when they were nearly all busy (naming who used them), else a single
 * Node process pinned at one core (its JavaScript runs on one thread), else
 * PostgreSQL working on about one statement at a time while busy (its work
 * is serialized: one backend on one core, whatever the connections), else
 * no CPU at all, which leaves waiting: round trips and locks, for which the
 * PostgreSQL session activity of the run is the evidence.
 */
export function findSaturation(run: LoadRun, machineCores: number): Saturation {
  const machineBusy = run.processes.machine?.cpuMean ?? 0;
  const groups = groupUse(run).sort((a, b) => b.cores - a.cores);

  const shares = groups
    .filter((group) => group.cores >= 0.05)
    .map((group) => `${group.group} ${group.cores.toFixed(2)}`)
    .join(', ');
  const pinned = Object.entries(run.processes)
    .filter(([name]) => name.startsWith('web-') || name.startsWith('worker-'))
    .filter(([, use]) => use.cpuMean >= 0.9)
    .map(([name, use]) => `${name} (${use.cpuMean.toFixed(2)} cores)`);
  const waits = run.pgActivity
    .slice(0, 3)
    .map((wait) => `${wait.what} ${(wait.share * 100).toFixed(0)}%`)
    .join(', ');

  const postgres = groups.find((group) => group.group === 'postgres')?.cores ?? 0;
  let verdict: string;
  const steal = run.processes.steal?.cpuMean ?? 0;
  if (machineBusy >= 0.9 * machineCores) {
    verdict =
      `CPU: the machine's ${machineCores} cores were ${pct(machineBusy / machineCores)} busy ` +
      `(cores used: ${shares}; taken by the hypervisor: ${steal.toFixed(2)})`;
  } else if (pinned.length > 0) {
    verdict = `CPU of one process: ${pinned.join(', ')} at its one JavaScript thread`;
  } else if (postgres >= 0.6 && run.pgActiveSessions > 0 && run.pgActiveSessions < 1.5) {
    verdict =
      `PostgreSQL, one statement at a time: ${run.pgActiveSessions.toFixed(2)} sessions were ` +
      `active on average, using ${postgres.toFixed(2)} cores (machine ` +
      `${pct(machineBusy / machineCores)} busy; ${shares}); sessions were ${waits || 'idle'}`;
  } else {
    verdict =
      `no CPU saturated (machine ${pct(machineBusy / machineCores)} busy; ${shares}): ` +
      `the limit is waiting; PostgreSQL sessions were ${waits || 'idle'}`;
  }
  return { machineCores, machineBusy, groups, verdict };
}

/** CPU of the run by group of processes, in the order of GROUPS. */
export function groupUse(run: LoadRun): GroupUse[] {
  return GROUPS.map(({ group, matches }) => {
    const members = Object.entries(run.processes).filter(([name]) => matches(name));
    return {
      group,
      cores: members.reduce((sum, [, use]) => sum + use.cpuMean, 0),
      busiestProcess: members.reduce((top, [, use]) => Math.max(top, use.cpuMean), 0),
    };
  });
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(0)}%`;
}
