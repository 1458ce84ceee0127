import type { Redis } from '../../src/redis/connection.js';

interface Implementation {
  _write?: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
}

/**
 * Watches what a ready connection hands to its socket's implementation:
 * `writes` counts the writes its socket makes (one `_writev` carries every
 * chunk buffered meanwhile), and `pipelines` the ioredis pipelines opened on
 * it. `restore()` puts both back.
 */
export function watchWrites(redis: Redis) {
  const socket = redis.stream as unknown as Implementation;
  const counts = { writes: 0, pipelines: 0 };
  const write = socket._write;
  const writev = socket._writev;
  const pipeline = redis.pipeline;
  socket._write = function (...args) {
    counts.writes += 1;
    return write?.apply(this, args);
  };
  socket._writev = function (...args) {
    counts.writes += 1;
    return writev?.apply(this, args);
  };
  redis.pipeline = function (...args: Parameters<Redis['pipeline']>) {
    counts.pipelines += 1;
    return pipeline.apply(this, args);
  };
  return {
    counts,
    restore() {
      socket._write = write;
      socket._writev = writev;
      redis.pipeline = pipeline;
    },
  };
}
