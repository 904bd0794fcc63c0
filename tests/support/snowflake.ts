import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type AppConfig } from '../../lib/config.js';

/** Configuration pointing the warehouse at the Snowflake emulator, in a database of its own (the emulator keeps every database). */
export function emulatorConfig(): AppConfig {
  const sf = inject('snowflakeEmulator');
  return loadConfig({
    WAREHOUSE: 'snowflake',
    SNOWFLAKE_ACCOUNT: sf.account,
    SNOWFLAKE_USER: sf.username,
    SNOWFLAKE_PASSWORD: sf.password,
    SNOWFLAKE_DATABASE: `EGX_${randomUUID().slice(0, 8).toUpperCase()}`,
    SNOWFLAKE_HOST: sf.host,
    SNOWFLAKE_PORT: String(sf.port),
    SNOWFLAKE_PROTOCOL: sf.protocol,
  });
}
