export * from './callback-snapshot';
export * from './callback-enqueue';
export * from './publish-transitions';
