import { afterAll, describe, expect, it } from 'vitest';
import { createRedis, redisKeys, subscribeWhenReady } from '../../src/redis/connection.js';
import { createSettledPublisher, parseSettled } from '../../src/redis/settled.js';
import { testConfig } from '../support/env.js';

const config = testConfig();
const publisher = createRedis(config);
const subscriber = createRedis(config, { blocking: true });
afterAll(async () => {
  await Promise.all([publisher.quit(), subscriber.quit()]);
});

async function listen(): Promise<string[][]> {
  const received: string[][] = [];
  const channel = redisKeys(config.REDIS_PREFIX).transferSettledChannel;
  subscriber.on('message', (from: string, raw: string) => {
    if (from === channel) received.push(parseSettled(raw)?.transferIds ?? []);
  });
  await subscribeWhenReady(subscriber, channel);
  return received;
}

describe('the settled signal', () => {
  it('sends what one event-loop turn reports as one message, later turns apart', async () => {
    const received = await listen();
    const publish = createSettledPublisher(publisher, config.REDIS_PREFIX);

    await Promise.all([publish(['tr_a', 'tr_b']), publish([]), publish(['tr_c'])]);
    await publish(['tr_d']);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(received).toEqual([['tr_a', 'tr_b', 'tr_c'], ['tr_d']]);
  });
});
