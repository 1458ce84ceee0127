import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { requireMigrations } from '../db/schema-check.js';
import { createSql } from '../db/sql.js';
import { createApiKey, createTenant, revokeApiKey } from '../services/tenants.js';

const USAGE = `usage:
  fintech-core tenant create --name NAME     create a tenant and its first API key
  fintech-core key create --tenant TENANT_ID issue another API key
  fintech-core key revoke --key KEY_ID       revoke an API key (effective at once)
  fintech-core migrate                       bring the schema up to date

Secrets are printed once, on standard output, and stored only as hashes.`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // A missing value or an unknown option is a usage error, as a missing command is.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const { positionals, values } = parsed;
  const command = positionals.join(' ');
  if (values.help || command === '') {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  // Collected rather than let the last one win: two names, say, are a mistake to point out.
  const repeated = (['name', 'tenant', 'key'] as const).find(
    (option) => (values[option]?.length ?? 0) > 1,
  );
  if (repeated) {
    process.stderr.write(`give --${repeated} once\n`);
    return 2;
  }
  const [name, tenant, key] = [values.name?.[0], values.tenant?.[0], values.key?.[0]];

  const config = loadConfig();
  if (command === 'migrate') {
    const result = await migrate(config.DATABASE_URL);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }

  const sql = createSql(config, { max: 2, application: 'fintech-core-cli' });
  try {
    // Unreachable, PostgreSQL answers the command itself with its error.
    await requireMigrations(sql, { warn: () => {} }, () => {});
    if (command === 'tenant create' && name) {
      const created = await createTenant(sql, name);
      print(values.json, {
        tenant_id: created.tenant.id,
        key_id: created.key.id,
        api_key: created.secret,
      });
      return 0;
    }
    if (command === 'key create' && tenant) {
      const issued = await createApiKey(sql, tenant);
      if (!issued) {
        process.stderr.write(`no such tenant: ${tenant}\n`);
        return 1;
      }
      print(values.json, {
        tenant_id: issued.key.tenantId,
        key_id: issued.key.id,
        api_key: issued.secret,
      });
      return 0;
    }
    if (command === 'key revoke' && key) {
      const revoked = await revokeApiKey(sql, key);
      if (!revoked) {
        process.stderr.write(`no such key: ${key}\n`);
        return 1;
      }
      print(values.json, {
        key_id: revoked.id,
        revoked_at: revoked.revokedAt?.toISOString() ?? null,
      });
      return 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } finally {
    await sql.end();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string', multiple: true },
      tenant: { type: 'string', multiple: true },
      key: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
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
