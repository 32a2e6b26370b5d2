import { ORGANIZATION_LABELS_MAX, organizationLabel } from '../../packages/observability/src';

describe('organization label of the per-organization wait histogram', () => {
  it('names the first organizations a process sees and counts every later one as `other`', () => {
    const ids = Array.from({ length: ORGANIZATION_LABELS_MAX + 5 }, (_, i) => `org_${i}`);
    const labels = ids.map(organizationLabel);
    expect(labels.slice(0, ORGANIZATION_LABELS_MAX)).toEqual(ids.slice(0, ORGANIZATION_LABELS_MAX));
    expect(labels.slice(ORGANIZATION_LABELS_MAX)).toEqual(Array(5).fill('other'));
    // One already labelled keeps its label.
    expect(organizationLabel('org_0')).toBe('org_0');
  });
});
