import { loadConfigOrExit } from './config.js';
import { migrate } from './db/migrate.js';
import { createLogger } from './logger.js';

const config = loadConfigOrExit();
const log = createLogger(config, 'release');
const result = await migrate(config.DATABASE_URL);
log.info({ created: result.created, applied: result.applied }, 'schema is up to date');
