/** DI tokens of the server's infrastructure. */
export const SQLITE_DB = Symbol('SQLITE_DB');
export const RAW_EVENT_STORE = Symbol('RAW_EVENT_STORE');
export const AUTH_SERVICE = Symbol('AUTH_SERVICE');
export const WAL_CHECKPOINTER = Symbol('WAL_CHECKPOINTER');
