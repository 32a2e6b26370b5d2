import { nextLink } from '../../packages/client/src/pages';

describe('client Link header', () => {
  it('finds the rel="next" target among other links and parameters', () => {
    expect(nextLink('</api/jobs?limit=2&after=job-1>; rel="next"')).toBe('/api/jobs?limit=2&after=job-1');
    expect(nextLink('</a?x=1,2>; rel="prev", </b>; title="n"; rel="next"')).toBe('/b');
    expect(nextLink('</a>; rel="prev next"')).toBe('/a');
  });

  it('gives null without a next link', () => {
    expect(nextLink(null)).toBeNull();
    expect(nextLink('</a>; rel="prev"')).toBeNull();
    expect(nextLink('</a>; rel="nextpage"')).toBeNull();
  });
});
