import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';

const CpuProfile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number(),
      }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

export interface HotSpot {
  name: string;
  selfMs: number;
  /** Share of the time the process was not idle. */
  share: number;
}

export interface ProfileSummary {
  process: string;
  file: string;
  wallMs: number;
  busyMs: number;
  functions: HotSpot[];
  /**
   * Self time by where the code lives: a package, Node's internals, this
   * project, GC. Native code (a socket write, say) counts for the JavaScript
   * that called it.
   */
  areas: HotSpot[];
}

/** Summarizes every .cpuprofile in `dir` (written by `node --cpu-prof`). */
export async function summarizeProfiles(dir: string, top = 15): Promise<ProfileSummary[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile')).sort();
  return Promise.all(
    files.map(async (file) => {
      const raw: unknown = JSON.parse(await readFile(join(dir, file), 'utf8'));
      return summarize(basename(file, '.cpuprofile'), join(dir, file), CpuProfile.parse(raw), top);
    }),
  );
}

function summarize(
  process: string,
  file: string,
  profile: z.infer<typeof CpuProfile>,
  top: number,
): ProfileSummary {
  const callerArea = callerAreas(profile.nodes);
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id);
    const us = profile.timeDeltas[index + 1] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    busyUs += us;
    const area = callerArea.get(id) ?? 'other';
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : `[${area}]`;
    const name = `${frame.functionName || '(anonymous)'} ${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  });
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    process,
    file,
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busyUs / 1000,
    functions: rank(byFunction),
    areas: rank(byArea),
  };
}

/**
 * The area of every node: its own when its script is a package or this
 * project; for Node's internals and native code, that of the nearest caller
 * that is (a socket write counts for the client library that wrote), or
 * Node's own when no such caller exists. V8's pseudo-frames such as the
 * garbage collector keep their own name.
 */
function callerAreas(nodes: z.infer<typeof CpuProfile>['nodes']): Map<number, string> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const areas = new Map<number, string>();
  const visit = (id: number, inherited: string | undefined) => {
    const node = byId.get(id);
    if (!node) return;
    const { url, functionName } = node.callFrame;
    const own = url ? areaOf(url) : undefined;
    const pseudo = !url && functionName.startsWith('(') ? functionName : undefined;
    const owner = own && own !== 'node internals' ? own : inherited;
    areas.set(id, pseudo ?? owner ?? (url ? 'node internals' : '(native)'));
    for (const child of node.children ?? []) visit(child, owner);
  };
  const root = nodes[0];
  if (root) visit(root.id, undefined);
  return areas;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const project = url.search(/\/(src|workers)\//);
  if (project >= 0) return url.slice(project + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  if (url.startsWith('node:')) return 'node internals';
  if (/\/(src|workers)\//.test(url)) return 'fintech-core';
  return 'other';
}
