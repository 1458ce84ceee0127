import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { createSql } from '../db/sql.js';
import { createApiKey, createTenant, revokeApiKey } from '../services/tenants.js';

const USAGE = `usage:
  fintech-core tenant create --name NAME     create a tenant and its first API key
  fintech-core key create --tenant TENANT_ID issue another API key
  fintech-core key revoke --key KEY_ID       revoke an API key (effective at once)
  fintech-core migrate                       bring the schema up to date

Secrets are printed once, on standard output, and stored only as hashes.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      tenant: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals.join(' ');
  if (values.help || command === '') {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }

  const config = loadConfig();
  if (command === 'migrate') {
    const result = await migrate(config.DATABASE_URL);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }

  const sql = createSql(config, { max: 2, application: 'fintech-core-cli' });
  try {
    if (command === 'tenant create' && values.name) {
      const { tenant, key, secret } = await createTenant(sql, values.name);
      print(values.json, { tenant_id: tenant.id, key_id: key.id, api_key: secret });
      return 0;
    }
    if (command === 'key create' && values.tenant) {
      const issued = await createApiKey(sql, values.tenant);
      if (!issued) {
        process.stderr.write(`no such tenant: ${values.tenant}\n`);
        return 1;
      }
      const { key, secret } = issued;
      print(values.json, { tenant_id: key.tenantId, key_id: key.id, api_key: secret });
      return 0;
    }
    if (command === 'key revoke' && values.key) {
      const key = await revokeApiKey(sql, values.key);
      if (!key) {
        process.stderr.write(`no such key: ${values.key}\n`);
        return 1;
      }
      print(values.json, { key_id: key.id, revoked_at: key.revokedAt?.toISOString() ?? null });
      return 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } finally {
    await sql.end();
  }
}

function print(json: boolean | undefined, fields: Record<string, string | null>): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(fields)}\n`);
    return;
  }
  for (const [name, value] of Object.entries(fields)) process.stdout.write(`${name}: ${value}\n`);
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
