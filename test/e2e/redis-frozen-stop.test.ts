import type { ChildProcess } from 'node:child_process';
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

let redisServer: ChildProcess | undefined;
let children: Child[] = [];

afterAll(async () => {
  redisServer?.kill('SIGCONT');
  await Promise.all(children.map((child) => stopChild(child, 2_000)));
  redisServer?.kill('SIGKILL');
});

describe('stopping while Redis is frozen', () => {
  it('lets every process stop in good time, with exit 0, when Redis answers nothing', async () => {
    const redisPort = await freePort();
    redisServer = await startRedisServer(redisPort);
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
});
