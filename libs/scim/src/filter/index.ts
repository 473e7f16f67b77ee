export * from './filter.ast';
export * from './filter.limits';
export * from './filter.parser';
export * from './filter.evaluate';
export * from './filter.sql';
export * from './sort';
