import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from '../src/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe('the process logger', () => {
  it('censors secret fields at the top of a line and one object down', () => {
    const { lines, stream } = capture();
    const log = createLogger({ LOG_LEVEL: 'info' }, 'test', stream);
    log.info(
      {
        authorization: 'Bearer fck_top',
        apiKey: 'fck_key',
        secret: 'whsec_top',
        secrets: ['whsec_a', 'whsec_b'],
        headers: { authorization: 'Bearer fck_nested', accept: 'application/json' },
        endpoint: { url: 'https://example.test/hook', secret: 'whsec_nested' },
        transfer_id: 'tr_1',
      },
      'a line with secrets',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      authorization: '[redacted]',
      apiKey: '[redacted]',
      secret: '[redacted]',
      secrets: '[redacted]',
      headers: { authorization: '[redacted]', accept: 'application/json' },
      endpoint: { url: 'https://example.test/hook', secret: '[redacted]' },
      transfer_id: 'tr_1',
      msg: 'a line with secrets',
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/fck_|whsec_/);
  });

  it('censors secrets bound to a child logger', () => {
    const { lines, stream } = capture();
    const log = createLogger({ LOG_LEVEL: 'info' }, 'test', stream);
    const child = log.child({ apiKey: 'fck_bound', request_id: 'req_1' });
    child.info('bound');
    child.child({ endpoint: { secret: 'whsec_bound' } }).info('bound twice');
    expect(lines[0]).toMatchObject({ apiKey: '[redacted]', request_id: 'req_1' });
    expect(lines[1]).toMatchObject({ apiKey: '[redacted]', endpoint: { secret: '[redacted]' } });
    expect(JSON.stringify(lines)).not.toMatch(/fck_|whsec_/);
  });

  it('leaves a line without secrets as it is, without copying it', () => {
    const fields = { method: 'POST', status: 202, nested: { route: '/v1/transfers' } };
    expect(redactSecrets(fields)).toBe(fields);
    const withSecret = { nested: { secret: 'x' }, other: 1 };
    const redacted = redactSecrets(withSecret);
    expect(redacted).not.toBe(withSecret);
    expect(withSecret.nested.secret).toBe('x');
    expect(redacted).toEqual({ nested: { secret: '[redacted]' }, other: 1 });
  });

  it('writes a line to standard output before the call that logs it returns', async () => {
    const fixture = fileURLToPath(new URL('./lib/fixtures/log-then-die.ts', import.meta.url));
    // Killed right after logging: a line handed to a thread to write is lost.
    for (let round = 0; round < 5; round++) {
      const stdout = await new Promise<string>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', fixture], (_error, out) => resolve(out));
      });
      expect(stdout).toContain('"msg":"the last words"');
    }
  });
});
