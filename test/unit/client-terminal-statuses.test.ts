import { JOB_STATUSES, TERMINAL_STATUSES as CORE_TERMINAL } from '../../packages/core/src/status';
import { TERMINAL_STATUSES as CLIENT_TERMINAL, isTerminal } from '../../packages/client/src/types';

// @jobs/client carries its own copy so that it imports nothing of the server's; this keeps the copy honest.
describe('the client knows the same terminal statuses as core', () => {
  it('lists exactly core’s terminal statuses', () => {
    expect([...CLIENT_TERMINAL].sort()).toEqual([...CORE_TERMINAL].sort());
  });

  it.each(JOB_STATUSES.map((s) => [s]))('isTerminal(%s) agrees with core', (status) => {
    expect(isTerminal(status)).toBe((CORE_TERMINAL as readonly string[]).includes(status));
  });
});
