export * from './identifier-history.projection';
export * from './account-history';
export * from './nameid-diagnosis';
