import type { createClient } from 'redis';
import { nodeRedis } from './driver.ts';
import { redactRedisUrl } from './url.ts';

/** The node-redis client a connection hands to `run()`. */
export type RedisClient = ReturnType<typeof createClient>;

/** Where the Redis is: one server, a Redis Cluster (seed nodes), or a Sentinel set. */
export type RedisTopology =
  | { readonly kind: 'node'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly string[] }
  | { readonly kind: 'sentinel'; readonly name: string; readonly nodes: readonly string[] };

/** What the guarded connection needs from any of the three node-redis clients. */
export interface TopologyClient {
  /**
   * Commands for `run()`. A cluster or sentinel client has the same key-based commands as a node
   * client (a cluster routes each by its first key, following MOVED/ASK; a sentinel client sends
   * them to the current master), so it is typed as one; keyless commands go to any node.
   */
  readonly commands: RedisClient;
  readonly tls: boolean;
  /** `host:port[,host:port...]` of the configured nodes, for log lines (no credentials). */
  readonly server: string;
  readonly isReady: () => boolean;
  /** Connect; rejects when no node answered (the caller retries). */
  connect(): Promise<void>;
  /** A client per master: every master of a cluster, the one master otherwise. */
  masters(): Promise<RedisClient[]>;
  destroy(): void;
}

export interface TopologyEvents {
  ready(): void;
  down(): void;
  error(error: unknown): void;
}

export interface TopologyOptions {
  readonly connectTimeoutMs: number;
  readonly maxReconnectDelayMs: number;
  readonly nodeCommandTimeoutMs: number;
}

function validUrl(url: unknown, key: string): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TypeError(`RedisConnectionOptions.${key} is required (redis://host:port)`);
  }
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError(`RedisConnectionOptions.${key} is not a URL: ${redactRedisUrl(url)}`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError(
      `RedisConnectionOptions.${key} must start with redis:// or rediss://, got ${JSON.stringify(protocol)}`,
    );
  }
  return url;
}

/** Exactly one of `url`, `cluster`, `sentinel`, with valid redis:// URLs. */
export function resolveTopology(options: {
  url?: string | undefined;
  cluster?: readonly string[] | undefined;
  sentinel?: { readonly name: string; readonly nodes: readonly string[] } | undefined;
}): RedisTopology {
  const given = [options.url !== undefined, options.cluster !== undefined, options.sentinel !== undefined];
  if (given.filter(Boolean).length > 1) {
    throw new TypeError('RedisConnectionOptions: give exactly one of url, cluster, sentinel');
  }
  if (options.cluster !== undefined) {
    if (!Array.isArray(options.cluster) || options.cluster.length === 0) {
      throw new TypeError('RedisConnectionOptions.cluster must list at least one seed node URL');
    }
    return { kind: 'cluster', nodes: options.cluster.map((url, i) => validUrl(url, `cluster[${i}]`)) };
  }
  if (options.sentinel !== undefined) {
    const { name, nodes } = options.sentinel;
    if (typeof name !== 'string' || name === '') {
      throw new TypeError('RedisConnectionOptions.sentinel.name is required (the monitored master name)');
    }
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new TypeError('RedisConnectionOptions.sentinel.nodes must list at least one sentinel URL');
    }
    return { kind: 'sentinel', name, nodes: nodes.map((url, i) => validUrl(url, `sentinel.nodes[${i}]`)) };
  }
  return { kind: 'node', url: validUrl(options.url, 'url') };
}

function credentials(url: string): { username?: string; password?: string } {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/**
 * Create the node-redis client for a topology and wire its events. Every variant fails fast while
 * a node is unreachable (no offline queue) and reconnects with a capped backoff; a cluster also
 * refreshes its slot map 500 ms into a node's reconnects (node-redis waits 5 s by default, which
 * measured here as a 5.8 s outage per master failover instead of 3.8 s).
 */
export function openTopology(
  topology: RedisTopology,
  options: TopologyOptions,
  events: TopologyEvents,
): TopologyClient {
  const reconnectStrategy = (retries: number) =>
    Math.min(50 * 2 ** Math.min(retries, 10), options.maxReconnectDelayMs) + Math.floor(Math.random() * 50);
  const socket = { connectTimeout: options.connectTimeoutMs, reconnectStrategy };
  // node-redis' own timeout only clears stuck commands from its queue; the connection's deadline is
  // what callers see, so node-redis must not beat it with a false timeout.
  const commandOptions = { timeout: options.nodeCommandTimeoutMs };
  const urls = topology.kind === 'node' ? [topology.url] : topology.nodes;
  const tls = urls[0]!.startsWith('rediss:');
  const server = urls.map((url) => new URL(url).host).join(',');

  if (topology.kind === 'cluster') {
    const cluster = nodeRedis().createCluster({
      rootNodes: topology.nodes.map((url) => ({ url })),
      // Discovered nodes are built from `defaults` (credentials, TLS), not from the seed URLs.
      defaults: {
        ...credentials(topology.nodes[0]!),
        disableOfflineQueue: true,
        socket: { ...socket, ...(tls ? { tls: true as const } : {}) },
      },
      commandOptions,
      topologyRefreshOnReconnectionAttemptStrategy: 500,
    });
    cluster.on('error', events.error);
    cluster.on('node-error', (error: unknown) => events.error(error));
    cluster.on('connect', events.ready);
    cluster.on('disconnect', events.down);
    return {
      commands: cluster as unknown as RedisClient,
      tls,
      server,
      isReady: () => cluster.isReady,
      connect: async () => {
        await cluster.connect();
        events.ready();
      },
      masters: () =>
        Promise.all(cluster.masters.map((master) => cluster.nodeClient(master))) as Promise<RedisClient[]>,
      destroy: () => cluster.destroy(),
    };
  }

  if (topology.kind === 'sentinel') {
    const sentinel = nodeRedis().createSentinel({
      name: topology.name,
      sentinelRootNodes: topology.nodes.map((url) => {
        const parsed = new URL(url);
        return { host: parsed.hostname, port: Number(parsed.port || 26379) };
      }),
      // The sentinels' URLs carry the credentials of the data nodes (and of the sentinels).
      nodeClientOptions: { ...credentials(topology.nodes[0]!), disableOfflineQueue: true, socket },
      sentinelClientOptions: { ...credentials(topology.nodes[0]!), socket },
      commandOptions,
      // Re-check the sentinels every second too: a switch announced while our sentinel connection
      // was down would otherwise go unnoticed (node-redis' default is 0: never).
      scanInterval: 1000,
    });
    sentinel.on('error', events.error);
    sentinel.on('client-error', (event: { error?: unknown }) => events.error(event?.error ?? event));
    sentinel.on('ready', events.ready);
    for (const event of ['end', 'reconnecting']) sentinel.on(event, events.down);
    return {
      commands: sentinel as unknown as RedisClient,
      tls,
      server,
      isReady: () => sentinel.isReady,
      connect: async () => {
        await sentinel.connect();
        events.ready();
      },
      masters: async () => [sentinel as unknown as RedisClient],
      destroy: () => {
        sentinel.destroy().catch(() => {});
      },
    };
  }

  const client: RedisClient = nodeRedis().createClient({
    url: topology.url,
    // Why: with the offline queue, commands issued while disconnected wait for the reconnect (~5 s
    // or forever, measured in ../shared/notes/libraries.md §1.4); we want them to fail at once.
    disableOfflineQueue: true,
    commandOptions,
    socket,
  });
  client.on('error', events.error);
  client.on('ready', events.ready);
  for (const event of ['end', 'reconnecting', 'terminated']) client.on(event, events.down);
  return {
    commands: client,
    tls,
    server,
    isReady: () => client.isReady,
    connect: async () => {
      await client.connect();
    },
    masters: async () => [client],
    destroy: () => client.destroy(),
  };
}
