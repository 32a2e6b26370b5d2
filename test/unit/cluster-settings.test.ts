import { SettingsError, hashTagged, loadSettings } from '../../packages/core/src';
import { redisTarget } from '../../packages/queue/src/redis';

describe('REDIS_CLUSTER_NODES', () => {
  it('parses host:port seeds and wins over REDIS_URL', () => {
    const s = loadSettings({ REDIS_URL: 'redis://10.0.0.9:6379', REDIS_CLUSTER_NODES: 'redis-a:7000, 10.0.0.2:7001,[::1]:7002' });
    expect(s.REDIS_CLUSTER_NODES).toEqual([
      { host: 'redis-a', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(redisTarget(s)).toEqual({ clusterNodes: s.REDIS_CLUSTER_NODES });
  });

  it('takes the nodes\' user, password and TLS from REDIS_URL', () => {
    const s = loadSettings({ REDIS_URL: 'rediss://app:p%40ss@ignored:6380', REDIS_CLUSTER_NODES: 'redis-a:7000' });
    expect(redisTarget(s)).toEqual({ clusterNodes: [{ host: 'redis-a', port: 7000 }], username: 'app', password: 'p@ss', tls: true });
  });

  it('leaves single-node mode alone when unset', () => {
    const s = loadSettings({ REDIS_URL: 'redis://10.0.0.9:6379' });
    expect(s.REDIS_CLUSTER_NODES).toBeUndefined();
    expect(s.QUEUE_PREFIX).toBe('jobsvc');
    expect(redisTarget(s)).toBe('redis://10.0.0.9:6379');
  });

  it.each(['redis-a', 'redis-a:0', 'redis-a:70000', 'redis://a:7000', ' , '])('rejects %j, naming the variable', (value) => {
    expect(() => loadSettings({ REDIS_CLUSTER_NODES: value })).toThrow(SettingsError);
    expect(() => loadSettings({ REDIS_CLUSTER_NODES: value })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('hash-tags the queue prefix in cluster mode, keeping a prefix that already has a tag', () => {
    expect(loadSettings({ REDIS_CLUSTER_NODES: 'a:7000' }).QUEUE_PREFIX).toBe('{jobsvc}');
    expect(loadSettings({ REDIS_CLUSTER_NODES: 'a:7000', QUEUE_PREFIX: 'prod' }).QUEUE_PREFIX).toBe('{prod}');
    expect(loadSettings({ REDIS_CLUSTER_NODES: 'a:7000', QUEUE_PREFIX: 'app:{q1}' }).QUEUE_PREFIX).toBe('app:{q1}');
    expect(hashTagged('x{}')).toBe('{x{}}');
  });
});

describe('EXPECTED_PROCESSES', () => {
  it('defaults to 1 and takes a whole number', () => {
    expect(loadSettings({}).EXPECTED_PROCESSES).toBe(1);
    expect(loadSettings({ EXPECTED_PROCESSES: '6' }).EXPECTED_PROCESSES).toBe(6);
    expect(() => loadSettings({ EXPECTED_PROCESSES: '0' })).toThrow(/EXPECTED_PROCESSES/);
  });
});
