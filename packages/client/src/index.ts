export { createJobsClient, type JobsClient, type JobsClientOptions } from './jobs-client';
export { ApiError, problemOf, unwrap, type Problem } from './api-error';
export { nextLink, type ListItem, type ListPath, type ListQuery, type PagesOptions } from './pages';
export type { WatchEvent, WatchOptions } from './watch';
export { verifyWebhook, WebhookVerificationError, type WebhookHeaders, type WebhookPayload } from './verify-webhook';
export { isTerminal, TERMINAL_STATUSES, type components, type Job, type JobEvent, type JobProgressEvent, type JobStatus, type JsonBody, type Organization, type paths, type Query } from './types';
