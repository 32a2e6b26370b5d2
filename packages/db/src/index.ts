export * from './client';
export * from './migrate';
export * from './job-row';
export * from './job-manager';
export * from './account-manager';
export * from './key-cache';
export * from './sweep-store';
export * from './batch-manager';
