export * from './ids';
export * from './status';
export * from './errors';
export * from './settings';
export * from './schemas';
export * from './canonical-json';
export * from './actor';
export * from './dependency-errors';
