export * from './task';
export * from './registry';
export * from './llm-batch-store';
export * from './anthropic-client';
export { llmBatchTask, batchRequestsSchema, LLM_BATCH_POLLER, MAX_BATCH_REQUESTS } from './builtin/llm-batch';
export * from './outbound/address-policy';
export * from './outbound/host-guard';
