import { sleep } from './retry.js';

/**
 * Polls `GET /readyz` until it answers 200. Fails when `timeoutMs` passes or
 * when `crashed` rejects (the web process died while starting).
 */
export async function waitForReady(
  baseUrl: string,
  crashed: Promise<never>,
  timeoutMs = 60_000,
): Promise<number> {
  const started = Date.now();
  let abandoned = false;
  crashed.catch(() => {
    abandoned = true;
  });
  const poll = async (): Promise<number> => {
    while (!abandoned && Date.now() - started < timeoutMs) {
      if (await isReady(baseUrl)) return Date.now() - started;
      await sleep(200);
    }
    throw new Error(`GET ${baseUrl}/readyz did not answer 200 within ${timeoutMs} ms`);
  };
  return Promise.race([poll(), crashed]);
}

async function isReady(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
