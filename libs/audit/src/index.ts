export * from './audit-envelope';
export * from './hash-chain';
export * from './checkpoint';
export * from './audit.projection';
export * from './verify-bundle';
export * from './audit-filter';
export * from './chain-verifier';
