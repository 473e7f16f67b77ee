export * from './token.events';
export * from './token-secret';
export * from './principal';
export * from './tokens.projection';
export * from './token.commands';
export * from './token.handlers';
export * from './auth.service';
export { tokenDecider, type TokenCommand, type TokenDecidedEvent, type TokenState } from './token.decider';
export * from './auth.module';
