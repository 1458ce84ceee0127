import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './children.js';

export const BUILD_DIR = '.bench/dist';

/**
 * Compiles the project to plain JavaScript in a folder of the benchmark's
 * own (git-ignored), so that the processes run as they do in production and
 * the `dist/` of anyone else is left alone. Type errors are reported but do
 * not stop the run while the entry files were still emitted.
 */
export async function buildForBench(): Promise<{ seconds: number; typeErrors: boolean }> {
  const started = performance.now();
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [tsc, '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR, '--sourceMap', 'false'],
      { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  for (const entry of ['src/server.js', 'workers/transfers.js']) {
    if (!existsSync(join(REPO_ROOT, BUILD_DIR, entry))) {
      throw new Error(`the build did not produce ${entry} (tsc exited with ${code})`);
    }
  }
  return { seconds: (performance.now() - started) / 1000, typeErrors: code !== 0 };
}
