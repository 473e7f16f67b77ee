// Crypto-shredding: personal data in events sealed under per-person keys that erasure destroys.
// See docs/architecture.md and docs/decisions.md ("Erasure").
export * from './data-key.cipher';
export * from './data-key-store.port';
export * from './data-key-store';
export * from './sqlite-key-table';
export * from './postgres-key-table';
export * from './master-key';
export * from './personal-fields';
export * from './personal-data.sealer';
export * from './sealing-event-store';
export * from './opening-projection';
export * from './erase-person.command';
export * from './erase-person.handler';
export * from './privacy.module';
