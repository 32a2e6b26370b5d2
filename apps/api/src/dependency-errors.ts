// The classifier lives in @jobs/core so the worker backs off on the same outages the API answers 503 for.
export { isDependencyDown } from '@jobs/core';
