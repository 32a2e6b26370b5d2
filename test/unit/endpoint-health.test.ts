import { EndpointHealth } from '../../apps/worker/src/callbacks/endpoint-health';
import { callbackEndpointFailures } from '../../packages/observability/src';

const gauge = async () =>
  new Map((await callbackEndpointFailures.get()).values.map((v) => [String(v.labels['host']), v.value]));

describe('EndpointHealth', () => {
  beforeEach(() => callbackEndpointFailures.reset());

  it('counts consecutive failures per host and resets a known host on delivery', async () => {
    const h = new EndpointHealth(10);
    h.record('https://a.example/x', false);
    h.record('https://a.example/y', false);
    h.record('https://b.example:8443/', false);
    expect(await gauge()).toEqual(
      new Map([
        ['a.example', 2],
        ['b.example:8443', 1],
      ]),
    );
    h.record('https://a.example/z', true);
    h.record('https://never-failed.example/', true);
    expect(await gauge()).toEqual(
      new Map([
        ['a.example', 0],
        ['b.example:8443', 1],
      ]),
    );
  });

  it('keeps at most maxHosts hosts, evicting the healthiest (then the stalest) for a newly failing one', async () => {
    const h = new EndpointHealth(3);
    for (let i = 0; i < 3; i++) h.record('https://sick.example/', false);
    h.record('https://flaky.example/', false);
    h.record('https://fine.example/', false);
    h.record('https://fine.example/', true);
    h.record('https://new.example/', false);
    expect([...h.snapshot().keys()].sort()).toEqual(['flaky.example', 'new.example', 'sick.example']);
    h.record('https://newer.example/', false);
    // flaky and new both have one failure; flaky was updated first.
    expect(await gauge()).toEqual(
      new Map([
        ['sick.example', 3],
        ['new.example', 1],
        ['newer.example', 1],
      ]),
    );
    h.record('not a url', false);
    expect(h.snapshot().size).toBe(3);
  });
});
