export * from './task';
export * from './registry';
