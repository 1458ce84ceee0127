import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/lib/free-port.js';
import { configEnv, testConfig } from '../support/env.js';
import {
  type Child,
  startChild,
  startRedisServer,
  startWeb,
  stopChild,
  waitForOk,
} from '../support/processes.js';
import { startWebhooks } from '../webhooks/support.js';
import { waitUntil } from '../worker/fixtures.js';
import { startInProcessWorkers } from '../worker/support.js';

const redisServers: ChildProcess[] = [];
let children: Child[] = [];

afterAll(async () => {
  for (const server of redisServers) server.kill('SIGCONT');
  await Promise.all(children.map((child) => stopChild(child, 2_000)));
  for (const server of redisServers) server.kill('SIGKILL');
});

describe('stopping while Redis is frozen', () => {
  it('lets every process stop in good time, with exit 0, when Redis answers nothing', async () => {
    const redisPort = await freePort();
    const redisServer = await startRedisServer(redisPort);
    redisServers.push(redisServer);
    const config = testConfig({
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      SHUTDOWN_TIMEOUT_MS: '20000',
    });
    const worker = startChild('worker', 'workers/transfers.ts', configEnv(config));
    const webhooks = startChild('webhooks', 'workers/webhooks.ts', configEnv(config));
    const { web, port } = await startWeb(config);
    children = [web, worker, webhooks];
    await waitForOk(`http://127.0.0.1:${port}/readyz`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // The socket stays open and nothing answers: a Redis stuck, not gone.
    redisServer.kill('SIGSTOP');
    const stoppedAt = Date.now();
    for (const child of children) child.process.kill('SIGTERM');
    const codes = await Promise.all(
      children.map(async (child) => [child.name, await child.exited, Date.now() - stoppedAt]),
    );
    // Each finds within the command timeout (2 s) that Redis does not answer.
    for (const [name, code, ms] of codes) {
      expect([name, code]).toEqual([name, 0]);
      expect(ms, String(name)).toBeLessThan(10_000);
    }
  }, 60_000);

  it("leaves no socket to Redis open once stopped, the queues' own included", async () => {
    const redisPort = await freePort();
    const frozen = await startRedisServer(redisPort);
    redisServers.push(frozen);
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    const webhooks = await startWebhooks(config);
    const workers = await startInProcessWorkers(config, { sweeper: false });
    // Each BullMQ worker opens a blocking connection of its own.
    await waitUntil('the queues opened their blocking connections', async () =>
      Promise.resolve(socketsTo(redisPort) > config.PARTITIONS + 4),
    );

    frozen.kill('SIGSTOP');
    await Promise.all([webhooks.stop(), workers.close()]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // An ended socket waits for a Redis that answers nothing to close its side,
    // and keeps the process alive until then.
    expect(socketsTo(redisPort)).toBe(0);
  }, 60_000);
});

function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter(
    (handle) => handle instanceof Socket && handle.remotePort === port && !handle.destroyed,
  ).length;
}
