import { organizationJobs } from '@jobs/observability';
import type { FairScheduler } from '@jobs/queue';

/**
 * Sets jobsvc_organization_jobs{organization,state} from fair dispatch's Redis structures at scrape: one script
 * call that visits every organization with staged or running jobs. Organizations with neither lose their series.
 */
export async function refreshOrganizationLoads(fair: FairScheduler): Promise<void> {
  const loads = await fair.organizationLoads();
  organizationJobs.reset();
  for (const l of loads) {
    organizationJobs.set({ organization: l.organization_id, state: 'waiting' }, l.waiting);
    organizationJobs.set({ organization: l.organization_id, state: 'running' }, l.running);
  }
}
