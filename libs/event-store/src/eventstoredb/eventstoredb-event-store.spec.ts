import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '../errors';
import { eventStoreContract } from '../testing/event-store.contract';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  eventStoreContract('EventStoreDB', async () => {
    const store = new EventStoreDbEventStore(connectionString);
    return { store, cleanup: () => store.close() };
  });
} else {
  const reason = 'EventStoreDB contract suite skipped: EVENTSTORE_CONNECTION_STRING is not set (no EventStoreDB server on this machine)';
  // Printed so a run without a server says so instead of passing silently.
  console.warn(reason);
  describe('EventStoreDB adapter contract', () => {
    it.skip(`skipped: ${reason}`, () => undefined);
  });
}

describe('EventStoreDB adapter without a reachable server', () => {
  it('fails fast with StoreUnavailableError (the HTTP layer answers 503)', async () => {
    const store = new EventStoreDbEventStore('esdb://127.0.0.1:1?tls=false');
    const started = Date.now();
    await expect(store.append(`outage-${randomUUID()}`, [{ id: randomUUID(), type: 'T', data: {} }], 'any')).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.readStream('anything')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await store.close();
  }, 20_000);
});
