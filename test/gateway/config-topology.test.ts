import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/gateway/config/index.ts';

function problems(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    parseConfig(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config: Redis Cluster and Sentinel ([cache] redis_cluster, redis_sentinel)', () => {
  it('reads a cluster from the file or REDIS_CLUSTER_NODES (comma-separated), and a sentinel set', () => {
    const cluster = parseConfig('[cache]\nredis_cluster = ["redis://h1:7000", "redis://h2:7001"]\n', {});
    expect(cluster.cache.redisCluster).toEqual(['redis://h1:7000', 'redis://h2:7001']);
    const fromEnv = parseConfig('', { REDIS_CLUSTER_NODES: 'redis://h1:7000, redis://h2:7001,' });
    expect(fromEnv.cache.redisCluster).toEqual(['redis://h1:7000', 'redis://h2:7001']);
    const sentinel = parseConfig(
      '[cache]\nredis_sentinel = { name = "mymaster", nodes = ["redis://h:26379"] }\n',
      {},
    );
    expect(sentinel.cache.redisSentinel).toEqual({ name: 'mymaster', nodes: ['redis://h:26379'] });
    expect(sentinel.cache.redisUrl).toBeUndefined();
  });

  it('accepts exactly one of redis_url, redis_cluster, redis_sentinel, naming the keys otherwise', () => {
    expect(problems('[cache]\nredis_url = "redis://a:1"\nredis_cluster = ["redis://b:2"]\n')).toEqual([
      'config error: cache.redis_url and cache.redis_cluster are both set: expected exactly one of cache.redis_url, cache.redis_cluster, cache.redis_sentinel',
    ]);
    expect(
      problems('[cache]\nredis_sentinel = { name = "m", nodes = ["redis://s:26379"] }\n', {
        REDIS_CLUSTER_NODES: 'redis://b:2',
      }),
    ).toEqual([
      'config error: cache.redis_cluster (from REDIS_CLUSTER_NODES) and cache.redis_sentinel are both set: expected exactly one of cache.redis_url, cache.redis_cluster, cache.redis_sentinel',
    ]);
  });

  it('checks the node URLs and the sentinel name', () => {
    expect(problems('[cache]\nredis_cluster = ["http://b:2"]\n')[0]).toBe(
      'config error: cache.redis_cluster[0] = "http://b:2": expected a redis:// or rediss:// URL',
    );
    expect(problems('[cache]\nredis_cluster = []\n')[0]).toBe(
      'config error: cache.redis_cluster = []: expected a list of redis:// URLs',
    );
    expect(problems('[cache]\nredis_sentinel = { nodes = ["redis://s:1"] }\n')[0]).toBe(
      'config error: cache.redis_sentinel.name is missing: expected the master name the sentinels monitor',
    );
  });
});
