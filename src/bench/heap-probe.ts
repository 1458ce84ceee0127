import { elapsed } from './clock.js';
import type { Timeline } from './timeline.js';

const GAUGES: Record<string, string> = {
  nodejs_heap_size_used_bytes: 'heap-used',
  nodejs_heap_size_total_bytes: 'heap-total',
  nodejs_external_memory_bytes: 'external',
};

/**
 * Reads a web process's own Prometheus metrics (GET /metrics) for its V8 heap,
 * into `heap-used:<name>`, `heap-total:<name>` and `external:<name>` in MB:
 * whether a high RSS is live objects, a heap V8 has not given back, or
 * buffers outside it.
 */
export async function probeHeap(
  timeline: Timeline,
  name: string,
  url: string,
  adminPassword: string,
): Promise<void> {
  const authorization = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
  const response = await fetch(`${url}/metrics`, {
    headers: { authorization },
    signal: AbortSignal.timeout(2_000),
  });
  const text = await response.text();
  const t = elapsed();
  for (const [metric, series] of Object.entries(GAUGES)) {
    const match = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (match?.[1]) timeline.add(`${series}:${name}`, t, Number(match[1]) / 1024 / 1024);
  }
}
