export * from './patch.parser';
export * from './apply-user-patch';
export * from './group-patch';
