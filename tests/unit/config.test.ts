import { describe, expect, test } from 'vitest';
import { ConfigInvalidError, loadConfig } from '../../lib/config.js';
import { SIMULATED_TICKERS } from '../../lib/sources/simulator.js';
import { HOSTILE_SYMBOLS } from '../support/hostile.js';

describe('loadConfig', () => {
  test('embedded defaults point at the local stack', () => {
    const c = loadConfig({});
    expect(c.temporal).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      idPrefix: '',
      uiUrl: 'http://127.0.0.1:8233',
    });
    expect(c.kafka).toEqual({ brokers: ['127.0.0.1:9092'], topic: 'egx_market_data' });
    expect(c.s3).toMatchObject({
      bucket: 'egx-data-bucket',
      region: 'us-east-1',
      endpoint: undefined,
      credentials: undefined,
    });
    expect(c.warehouse).toEqual({ kind: 'duckdb', duckdbPath: 'data/egx.duckdb' });
  });

  test('reads the seed system variable names, including the MINIO_ENDPOINT alias and broker lists', () => {
    const c = loadConfig({
      KAFKA_BOOTSTRAP_SERVERS: 'k1:9092, k2:9093',
      MINIO_ENDPOINT: 'http://127.0.0.1:9000',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      S3_BUCKET: 'other-bucket',
    });
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(c.s3).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'other-bucket',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
  });

  test('S3_ENDPOINT wins over MINIO_ENDPOINT, and empty values count as unset', () => {
    const c = loadConfig({ S3_ENDPOINT: 'http://a:1', MINIO_ENDPOINT: 'http://b:2', TEMPORAL_ADDRESS: '' });
    expect(c.s3.endpoint).toBe('http://a:1');
    expect(c.temporal.address).toBe('127.0.0.1:7233');
  });

  test('every bad variable is named with the rule and the value it had', () => {
    let err: unknown;
    try {
      loadConfig({ TEMPORAL_ADDRESS: 'no-port', KAFKA_BOOTSTRAP_SERVERS: 'a:1,b', WAREHOUSE: 'oracle' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigInvalidError);
    const problems = (err as ConfigInvalidError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('TEMPORAL_ADDRESS'))).toContain('"no-port"');
    expect(problems.find((p) => p.startsWith('KAFKA_BOOTSTRAP_SERVERS'))).toContain('host:port');
    expect(problems.find((p) => p.startsWith('WAREHOUSE'))).toContain('"oracle"');
  });

  test('half a credential pair is refused', () => {
    expect(() => loadConfig({ AWS_ACCESS_KEY_ID: 'id' })).toThrow(
      /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both/,
    );
  });
});

describe('Snowflake settings', () => {
  const base = {
    WAREHOUSE: 'snowflake',
    SNOWFLAKE_ACCOUNT: 'org-acct',
    SNOWFLAKE_USER: 'loader',
    SNOWFLAKE_DATABASE: 'EGX',
  };

  test('are read when WAREHOUSE=snowflake, with password or key file', () => {
    const c = loadConfig({
      ...base,
      SNOWFLAKE_PASSWORD: 'pw',
      SNOWFLAKE_ROLE: 'LOADER',
      SNOWFLAKE_PORT: '8085',
    });
    expect(c.warehouse.snowflake).toMatchObject({
      account: 'org-acct',
      username: 'loader',
      database: 'EGX',
      password: 'pw',
      role: 'LOADER',
      port: 8085,
    });
    expect(
      loadConfig({ ...base, SNOWFLAKE_PRIVATE_KEY_PATH: '/keys/rsa.p8' }).warehouse.snowflake?.privateKeyPath,
    ).toBe('/keys/rsa.p8');
  });

  test('missing settings are named, and exactly one way to log in is required', () => {
    expect(() => loadConfig({ WAREHOUSE: 'snowflake' })).toThrow(
      /SNOWFLAKE_ACCOUNT: required[\s\S]*SNOWFLAKE_USER: required[\s\S]*SNOWFLAKE_DATABASE: required/,
    );
    expect(() => loadConfig({ ...base, SNOWFLAKE_PASSWORD: 'pw', SNOWFLAKE_PRIVATE_KEY_PATH: '/k' })).toThrow(
      /set exactly one/,
    );
  });

  test('the password never appears in the error of another variable', () => {
    expect(() => loadConfig({ ...base, SNOWFLAKE_PASSWORD: 's3cret', SNOWFLAKE_PORT: 'x' })).toThrow(
      /SNOWFLAKE_PORT/,
    );
    expect(() => loadConfig({ ...base, SNOWFLAKE_PASSWORD: 's3cret', SNOWFLAKE_PORT: 'x' })).not.toThrow(
      /s3cret/,
    );
  });
  test('market settings: defaults, poll intervals with units, and clear errors for bad tickers', () => {
    expect(loadConfig({}).market).toMatchObject({
      source: 'simulator',
      pollMinutes: 5,
      replay: { prefix: 'streaming/', speed: 1 },
    });
    expect(loadConfig({}).bus).toBe('kafka');
    expect(loadConfig({ POLL_INTERVAL: '300s' }).market.pollMinutes).toBe(5);
    expect(loadConfig({ POLL_INTERVAL: '1h' }).market.pollMinutes).toBe(60);
    expect(loadConfig({ EGX_SYMBOLS: ' comi, ETEL,comi ' }).market.symbols).toEqual(['COMI', 'ETEL']);
    expect(() => loadConfig({ EGX_SYMBOLS: 'COMI,EGX:ETEL' })).toThrow(
      /EGX_SYMBOLS: "EGX:ETEL" is not an EGX ticker: it has ":" at position 4; .* \(got "COMI,EGX:ETEL"\)/,
    );
    expect(() => loadConfig({ POLL_INTERVAL: '20s' })).toThrow(
      /POLL_INTERVAL: expected a duration of at least 1 minute/,
    );
    expect(() => loadConfig({ MARKET_SOURCE: 'bloomberg' })).toThrow(/MARKET_SOURCE/);
  });

  // An empty item between commas is skipped; a list with nothing in it is the next test.
  test.each(HOSTILE_SYMBOLS.filter(([v]) => v !== ''))(
    'EGX_SYMBOLS=COMI,%j is refused at start-up, naming the variable',
    (bad, why) => {
      const err = (() => {
        try {
          loadConfig({ EGX_SYMBOLS: `COMI,${bad}` });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ConfigInvalidError);
      expect((err as Error).message).toMatch(/EGX_SYMBOLS: .* is not an EGX ticker/);
      expect((err as Error).message).toMatch(why);
    },
  );

  test('EGX_SYMBOLS with no ticker at all is refused', () => {
    expect(() => loadConfig({ EGX_SYMBOLS: ' , ' })).toThrow(/EGX_SYMBOLS: no tickers given/);
  });
});

describe('defaults a person notices', () => {
  test('the tracked symbols are the 16 the replaced pipeline tracked, each one the simulator trades from a reference price', () => {
    const symbols = loadConfig({}).market.symbols;
    expect(symbols).toEqual([
      'COMI',
      'ETEL',
      'SWDY',
      'PHDC',
      'ORAS',
      'ESRS',
      'HRHO',
      'OCDI',
      'SKPC',
      'TMGH',
      'JUFO',
      'EKHO',
      'CLHO',
      'OTMT',
      'BTFH',
      'HELI',
    ]);
    for (const s of symbols) expect(SIMULATED_TICKERS[s], s).toBeGreaterThan(0);
  });

  test('LOG_LEVEL takes upper or lower case and WARNING; anything else is refused naming it', () => {
    expect(loadConfig({}).observability.logLevel).toBe('INFO');
    expect(loadConfig({ LOG_LEVEL: 'debug' }).observability.logLevel).toBe('DEBUG');
    expect(loadConfig({ LOG_LEVEL: ' Warning ' }).observability.logLevel).toBe('WARN');
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL: .*"verbose"/);
  });
});
