import { postgresUnavailableReason } from '@app/event-store/testing/postgres-test-database';
import { runTestServersOnPostgres } from '../support/test-server';

/**
 * The IdP conformance suites (Okta, Entra) and the SCIM groups suite once more, with every
 * server on PostgreSQL (a fresh database per server) instead of the embedded store.
 */
const unavailable = postgresUnavailableReason();

if (unavailable === undefined) {
  runTestServersOnPostgres();
  describe('on PostgreSQL', () => {
    // Required here, not imported: their describe blocks must register inside this one,
    // after the switch above, and in this file's own module registry.
    /* eslint-disable @typescript-eslint/no-require-imports */
    require('./okta-lifecycle.e2e-spec');
    require('./okta-spec.e2e-spec');
    require('./entra-lifecycle.e2e-spec');
    require('../scim-groups.e2e-spec');
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
} else {
  console.warn(`Conformance suites on PostgreSQL skipped: ${unavailable}`);
  describe('on PostgreSQL', () => {
    it.skip(`skipped: ${unavailable}`, () => undefined);
  });
}
