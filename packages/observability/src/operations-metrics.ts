import client from 'prom-client';
import { registry } from './metrics';

/** Consecutive failed callback attempts per receiving host (SPEC F6 endpoint health); see EndpointHealth. */
export const callbackEndpointFailures = new client.Gauge({
  name: 'jobsvc_callback_endpoint_consecutive_failures',
  help: 'Consecutive failed callback attempts per receiving host (0 after a delivery); only the least healthy hosts are kept',
  labelNames: ['host'] as const,
  registers: [registry],
});

/** Rows deleted by job retention (SPEC F13), by table. */
export const retentionRowsDeleted = new client.Counter({
  name: 'jobsvc_retention_rows_deleted_total',
  help: 'Rows deleted by job retention (JOB_RETENTION_DAYS), by table',
  labelNames: ['table'] as const,
  registers: [registry],
});
