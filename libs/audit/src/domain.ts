/**
 * The audit lib's light entry point (@app/audit/domain), for offline use: the bundle format, the hash chain, checkpoints and the
 * verifier, which an auditor runs on their own machine (scimctl). It loads no server code (no
 * Nest, no event store, no read models), so the CLI starts fast; `@app/audit` is everything.
 */
export * from './audit-envelope';
export * from './hash-chain';
export * from './checkpoint';
export * from './audit-csv';
export * from './bundle';
export * from './bundle-verifier';
export * from './verify-bundle';
export * from './strict-json';
