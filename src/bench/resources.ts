import { elapsed } from './clock.js';
import { readMachineCpu, readUsage } from './proc.js';
import type { Timeline } from './timeline.js';

export interface ProcessGroup {
  /** Series name: `web-1`, `worker-2`, `postgres`, `redis`, `bench`. */
  name: string;
  pids: number[];
  /** Whether resident memory means anything for the group (not for shared-memory PostgreSQL). */
  memory: boolean;
}

/**
 * Samples CPU and memory of named groups of processes into the timeline:
 * `cpu:<name>` in cores (1 = one core busy for the whole interval),
 * `rss:<name>` in MB, `cpu:machine` for every core of the host, whoever
 * used them, and `steal` for the time the hypervisor took from them. A
 * process's CPU is the change of its counters between two samples, so a
 * group whose members come and go is still measured right.
 */
export class ResourceSampler {
  /** Highest VmHWM (peak RSS since start) seen per group, in MB. */
  readonly peakMb = new Map<string, number>();
  readonly #previous = new Map<number, { t: number; cpu: number }>();
  #machine: { t: number; busy: number; steal: number } | undefined;

  constructor(
    private readonly timeline: Timeline,
    private readonly groups: () => ProcessGroup[],
  ) {}

  sample(): void {
    const t = elapsed();
    for (const group of this.groups()) this.#sampleGroup(group, t);

    const machine = readMachineCpu();
    if (this.#machine) {
      const seconds = t - this.#machine.t;
      this.timeline.add('cpu:machine', t, (machine.busy - this.#machine.busy) / seconds);
      this.timeline.add('steal', t, (machine.steal - this.#machine.steal) / seconds);
    }
    this.#machine = { t, ...machine };
  }

  #sampleGroup(group: ProcessGroup, t: number): void {
    let cores = 0;
    let measured = false;
    let rssKb = 0;
    let peakKb = 0;
    for (const pid of group.pids) {
      const usage = readUsage(pid);
      if (!usage) {
        this.#previous.delete(pid);
        continue;
      }
      const before = this.#previous.get(pid);
      if (before && t > before.t) {
        cores += (usage.cpuSeconds - before.cpu) / (t - before.t);
        measured = true;
      }
      this.#previous.set(pid, { t, cpu: usage.cpuSeconds });
      rssKb += usage.rssKb;
      peakKb = Math.max(peakKb, usage.peakRssKb);
    }
    if (measured) this.timeline.add(`cpu:${group.name}`, t, cores);
    if (!group.memory || rssKb === 0) return;
    this.timeline.add(`rss:${group.name}`, t, rssKb / 1024);
    this.peakMb.set(group.name, Math.max(this.peakMb.get(group.name) ?? 0, peakKb / 1024));
  }
}
