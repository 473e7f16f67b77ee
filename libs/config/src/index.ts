export * from './app-config';
export * from './data-dir';
