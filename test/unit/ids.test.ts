import { ID_PREFIXES, isId, newId } from '../../packages/core/src/ids';

describe('prefixed ids', () => {
  it.each(ID_PREFIXES.map((p) => [p]))('%s ids are <prefix>-<uuid4> and recognised', (prefix) => {
    const id = newId(prefix);
    expect(id).toMatch(new RegExp(`^${prefix}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`));
    expect(isId(prefix, id)).toBe(true);
  });

  it('are unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('job')));
    expect(ids.size).toBe(1000);
  });

  it('reject other prefixes, other UUID versions and near misses', () => {
    const uuid = '0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b';
    expect(isId('job', `job-${uuid}`)).toBe(true);
    expect(isId('job', `org-${uuid}`)).toBe(false);
    expect(isId('org', `job-${uuid}`)).toBe(false);
    expect(isId('job', `job-${uuid.replace('-4c1f', '-1c1f')}`)).toBe(false); // version 1
    expect(isId('job', `job-${uuid.toUpperCase()}`)).toBe(false);
    expect(isId('job', `job-${uuid} `)).toBe(false);
    expect(isId('job', `xjob-${uuid}`)).toBe(false);
    expect(isId('job', uuid)).toBe(false);
    expect(isId('job', 'job-')).toBe(false);
    // "batch_item" is a prefix of its own, not "batch" + something.
    expect(isId('batch_item', `batch_item-${uuid}`)).toBe(true);
  });
});
