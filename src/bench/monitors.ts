import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { probeHeap } from './heap-probe.js';
import { PgActivity } from './pg-activity.js';
import { pidsNamed } from './proc.js';
import { QueueDepth } from './queue-depth.js';
import { type ProcessGroup, ResourceSampler } from './resources.js';
import { Sampler } from './sampler.js';
import type { Stack } from './stack.js';
import type { Timeline } from './timeline.js';
import { postgresDataDevice, WritebackSampler } from './writeback.js';

/**
 * Everything sampled over time while the benchmark runs: CPU and memory of
 * the stack's processes, of the PostgreSQL sessions of the benchmark's
 * database, of Redis and of the benchmark itself (the load generator); what
 * those sessions wait on; the depth of the partition queues; the V8 heap of
 * the web processes; and the kernel's dirty pages and what PostgreSQL's disk
 * wrote.
 */
export class Monitors {
  readonly resources: ResourceSampler;
  readonly activity: PgActivity;
  /** The device of PostgreSQL's data directory, once named (`postgresDataDevice`). */
  readonly dataDevice: Promise<number | undefined>;
  readonly #depth: QueueDepth;
  readonly #samplers: Sampler[];
  #stopped = false;

  constructor(config: Config, sql: Sql, stack: Stack, timeline: Timeline, databaseName: string) {
    this.activity = new PgActivity(sql, databaseName);
    const redisPids = pidsNamed('redis-server');
    const groups = (): ProcessGroup[] => [
      ...stack.processes().map((child) => ({ name: child.name, pids: [child.pid], memory: true })),
      { name: 'postgres', pids: this.activity.pids, memory: false },
      { name: 'redis', pids: redisPids, memory: true },
      { name: 'bench', pids: [process.pid], memory: true },
    ];
    this.resources = new ResourceSampler(timeline, groups);
    this.#depth = new QueueDepth(config, timeline);
    this.dataDevice = postgresDataDevice(sql);
    const writeback = new WritebackSampler(timeline, this.dataDevice);
    this.#samplers = [
      new Sampler(250, () => this.resources.sample()),
      new Sampler(250, () => this.activity.sample()),
      new Sampler(500, () => this.#depth.sample()),
      new Sampler(250, () => writeback.sample()),
      new Sampler(2_000, async () => {
        for (const web of stack.webs) {
          await probeHeap(timeline, web.child.spec.name, web.url, config.ADMIN_PASSWORD ?? '');
        }
      }),
    ];
  }

  start(): this {
    for (const sampler of this.#samplers) sampler.start();
    return this;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.#samplers.map((sampler) => sampler.stop()));
    await this.#depth.close();
  }

  /** Samples that failed (a sampler never throws into the run). */
  failures(): number {
    return this.#samplers.reduce((sum, sampler) => sum + sampler.failures, 0);
  }
}
