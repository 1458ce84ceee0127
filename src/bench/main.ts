import { parseBenchArgs, USAGE, UsageError } from './args.js';
import { progress } from './progress.js';
import { deletePrefix } from './redis-prefix.js';
import { type Lifecycle, runBench } from './run.js';

/*
 * `npm run bench`: measures the product against the raw limits of this
 * machine and prints whether it meets its targets. Ctrl-C stops every process
 * the benchmark started (the disk flush probe's too, removing its file) and
 * removes its Redis keys; a second Ctrl-C kills the processes at once.
 */

const lifecycle: Lifecycle = {
  stack: undefined,
  probe: undefined,
  prefix: undefined,
  redisUrl: undefined,
};
let interrupted = false;

async function interrupt(signal: NodeJS.Signals): Promise<void> {
  if (interrupted) {
    lifecycle.stack?.killNow();
    process.exit(130);
  }
  interrupted = true;
  progress(`${signal}: stopping the processes the benchmark started`);
  await lifecycle.stack?.stop().catch(() => lifecycle.stack?.killNow());
  await lifecycle.probe?.stop().catch(() => undefined);
  if (lifecycle.prefix && lifecycle.redisUrl) {
    await deletePrefix(lifecycle.redisUrl, lifecycle.prefix).catch(() => 0);
  }
  process.exit(130);
}

process.on('SIGINT', (signal) => void interrupt(signal));
process.on('SIGTERM', (signal) => void interrupt(signal));
process.on('exit', () => lifecycle.stack?.killNow());

try {
  const options = parseBenchArgs(process.argv.slice(2));
  const code = await runBench(options, lifecycle);
  if (code !== 0) progress('FAILED: the ledger did not reconcile or transfers stayed pending');
  process.exit(code);
} catch (error) {
  if (error instanceof UsageError) {
    // Asked-for help goes to standard output, so that it can be paged.
    if (error.message === USAGE) process.stdout.write(`${USAGE}\n`);
    else process.stderr.write(`${error.message}\n`);
    process.exit(error.message === USAGE ? 0 : 2);
  }
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  lifecycle.stack?.killNow();
  process.exit(1);
}
