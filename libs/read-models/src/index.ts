export * from './scim-users.projection';
export * from './groups.projection';
export * from './accounts.projection';
export * from './read-model-directory';
export * from './scim-groups.projection';
export * from './scan-pool';
