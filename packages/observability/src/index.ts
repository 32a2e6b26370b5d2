export * from './logger';
export * from './log-context';
export * from './metrics';
export * from './watchdog';
export * from './transition-metrics';
export * from './health-file';
export * from './shutdown';
export * from './background-errors';
