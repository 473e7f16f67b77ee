import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      eventStore: 'sqlite',
      rateLimitPerMinute: 6000,
      maxPayloadBytes: 1048576,
      publicUrl: 'http://127.0.0.1:3000',
    });
    expect(c.dataDir.endsWith('/data')).toBe(true);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', EVENT_STORE: 'postgres', RATE_LIMIT_PER_MINUTE: '-1', ADMIN_TOKEN: 'short' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/EVENT_STORE/);
    expect(problems).toMatch(/RATE_LIMIT_PER_MINUTE/);
    expect(problems).toMatch(/ADMIN_TOKEN/);
  });

  it('requires a connection string for EventStoreDB', () => {
    expect(() => loadConfig({ EVENT_STORE: 'eventstoredb' })).toThrow(/EVENTSTORE_CONNECTION_STRING/);
    expect(loadConfig({ EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' }).eventStore).toBe(
      'eventstoredb',
    );
  });

  it('requires a PostgreSQL URL for the PostgreSQL store, without echoing it', () => {
    expect(() => loadConfig({ EVENT_STORE: 'postgres' })).toThrow(/DATABASE_URL is required/);
    for (const bad of ['mysql://u:secret@db/x', 'not a url secret', 'postgres://']) {
      const error = (() => {
        try {
          loadConfig({ EVENT_STORE: 'postgres', DATABASE_URL: bad });
        } catch (e) {
          return e as ConfigError;
        }
        throw new Error(`accepted ${bad}`);
      })();
      expect(error.problems.join('\n')).toMatch(/DATABASE_URL must be a postgres/);
      expect(error.message).not.toMatch(/secret/);
    }
    const config = loadConfig({ EVENT_STORE: 'postgres', DATABASE_URL: 'postgresql://scim:pw@db.internal:5432/scim' });
    expect(config).toMatchObject({ eventStore: 'postgres', databaseUrl: 'postgresql://scim:pw@db.internal:5432/scim' });
  });

  it.each(['kurrentdb://localhost:2113?tls=false', 'kurrentdb+discover://db.example:2113', 'kdb://localhost:2113', 'http://localhost:2113'])(
    'refuses %s, which the EventStoreDB client cannot read, saying which schemes it takes',
    (connectionString) => {
      expect(() => loadConfig({ EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: connectionString })).toThrow(
        /EVENTSTORE_CONNECTION_STRING must start with esdb:\/\/ or esdb\+discover:\/\//,
      );
    },
  );

  it('accepts both schemes the client reads', () => {
    for (const cs of ['esdb://a:2113,b:2113?tls=false', 'esdb+discover://cluster.example:2113']) {
      expect(loadConfig({ EVENT_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: cs }).eventStoreConnectionString).toBe(cs);
    }
  });
});
