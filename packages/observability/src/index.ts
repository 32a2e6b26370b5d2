export * from './logger';
export * from './log-context';
export * from './metrics';
