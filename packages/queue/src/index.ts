export * from './names';
export * from './redis';
export * from './job-queue';
export * from './job-bus';
export * from './publish-transitions';
export * from './metrics-exchange';
export * from './leader-lock';
export * from './scheduler-status';
