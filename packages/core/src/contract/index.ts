export { idOf } from './common';
export * from './problem';
export * from './jobs';
export * from './accounts';
export * from './runs';
export * from './batches';
export * from './files';
export * from './operations';
export * from './callbacks';
