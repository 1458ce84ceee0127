import { serve } from '@hono/node-server';
import { loadConfigOrExit } from './config.js';
import { requireMigrations } from './db/schema-check.js';
import { createSql } from './db/sql.js';
import { ApiKeyCache } from './http/api-key-cache.js';
import { createApp } from './http/app.js';
import { InFlight } from './http/in-flight.js';
import { SettledWaiters } from './http/long-poll.js';
import type { Deps } from './http/types.js';
import { stopOnSignals } from './lib/process-lifecycle.js';
import { createLogger } from './logger.js';
import { TransferQueues } from './queue/transfer-queues.js';
import { closeRedis, createRedis, cutRedis, redisAnswers } from './redis/connection.js';
import { createAcceptancePool } from './services/transfers.js';
import { DeliveryQueue } from './webhooks/queue.js';

/**
 * The web process: stateless, any number behind a load balancer. On SIGTERM
 * it stops accepting connections, answers long-polls at once, lets requests
 * in flight finish (even those whose client left), closes keep-alive
 * connections as they fall idle, cuts after a grace those whose requests
 * never finish arriving, and only then closes its pools.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config, 'web');
  const sql = createSql(config, { application: 'fintech-core-web' });
  try {
    await requireMigrations(sql, log, (error) => {
      // Nothing can have been accepted on a database without its tables.
      log.fatal({ err: error }, 'the database is not migrated: web exiting');
      process.exit(1);
    });
  } catch (error) {
    log.fatal({ err: error }, 'web failed to start');
    await sql.end({ timeout: 5 });
    process.exitCode = 1;
    return;
  }
  const acceptSql = createAcceptancePool(config);
  const redis = createRedis(config, { name: 'web', log });
  const queueConnection = createRedis(config, { name: 'web-queues', log });
  const subscriber = createRedis(config, { blocking: true, name: 'web-settled', log });
  const waiters = new SettledWaiters(subscriber, config.REDIS_PREFIX, log);
  // Not awaited: with Redis down the process still listens, answers
  // `/healthz`, and says in `/readyz` that it is not ready until the
  // subscription is made. Requests that need Redis answer 503 meanwhile.
  waiters.keepSubscribing();
  const queues = new TransferQueues(config, queueConnection, log);
  const deliveries = new DeliveryQueue(config, queueConnection, log);

  const inFlight = new InFlight();
  const apiKeys = new ApiKeyCache();
  const revocations = apiKeys.follow(sql, log);
  const deps: Deps = {
    config,
    sql,
    acceptSql,
    redis,
    queues,
    deliveries,
    waiters,
    log,
    inFlight,
    apiKeys,
    onStall: (stalledMs) => {
      // Its connection holds no answer that will come. The requests in hand
      // are lost to their clients, who retry with their keys: a statement
      // that never commits rolls back, and one that did is replayed.
      log.fatal({ stalledMs }, 'PostgreSQL has not answered a statement: web exiting');
      process.exit(1);
    },
  };
  const app = createApp(deps);
  // Nothing has been accepted yet when listening fails (a port in use, say):
  // say why in one line and stop, instead of an unhandled error event.
  const cannotListen = (error: Error) => {
    log.fatal({ err: error, host: config.HOST, port: config.PORT }, 'cannot listen');
    process.exit(1);
  };
  const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
    server.off('error', cannotListen);
    log.info({ host: info.address, port: info.port }, 'listening');
  });
  server.once('error', cannotListen);

  stopOnSignals({
    name: 'web',
    logger: log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      waiters.close();
      // Keep-alive connections would hold the server open: close each as soon
      // as it is idle, and answer the requests still running with
      // `Connection: close`.
      const idleSweep = setInterval(() => closeIdle(server), 50);
      closeIdle(server);
      // A client that holds a connection without finishing its request
      // (sending nothing, or its headers or body slowly) would keep the server
      // open until the shutdown timed out: after a grace, every connection
      // still open is cut. A handler still running then goes on to its end,
      // and is waited for; only its answer is lost, and the client may retry.
      const cut = setTimeout(() => closeAll(server), unfinishedGraceMs(config));
      await inFlight.drain();
      await closed;
      // A connection that was midway through sending a request when the
      // first drain ended stayed open, and that request ran since: wait for
      // it, and for the work it left running after its answer.
      await inFlight.drain();
      clearTimeout(cut);
      clearInterval(idleSweep);
      // A Redis that answers nothing would hold the queues' close forever.
      if (!(await redisAnswers(redis))) cutRedis([redis, queueConnection, subscriber]);
      await Promise.all([queues.close(), deliveries.close()]);
      await closeRedis([redis, queueConnection, subscriber]);
      revocations.stop();
      await Promise.all([sql.end({ timeout: 5 }), acceptSql.end({ timeout: 5 })]);
    },
  });
}

function closeIdle(server: ReturnType<typeof serve>): void {
  if ('closeIdleConnections' in server) server.closeIdleConnections();
}

function closeAll(server: ReturnType<typeof serve>): void {
  if ('closeAllConnections' in server) server.closeAllConnections();
}

/**
 * How long a stopping web process waits for connections whose requests have
 * not finished arriving: 5 s, or a third of the shutdown timeout if that is
 * shorter. No request of this API takes seconds, long-polls aside, which a
 * stop answers at once.
 */
function unfinishedGraceMs(config: { SHUTDOWN_TIMEOUT_MS: number }): number {
  return Math.min(5_000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 3));
}

await main();
