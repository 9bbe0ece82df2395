import { createRequire } from 'node:module';

type NodeRedis = typeof import('redis');

let loaded: NodeRedis | undefined;

/**
 * node-redis, loaded on first use (it is CommonJS, so `require` loads it synchronously where a
 * connection is created): users of the memory cache and local limits never load the Redis client.
 */
export function nodeRedis(): NodeRedis {
  loaded ??= createRequire(import.meta.url)('redis') as NodeRedis;
  return loaded;
}

/** A Redis error reply (`-ERR ...`, `-OOM ...`); false when node-redis was never loaded. */
export function isErrorReply(error: unknown): error is InstanceType<NodeRedis['ErrorReply']> {
  return loaded !== undefined && error instanceof loaded.ErrorReply;
}

/** node-redis's connect timeout; false when node-redis was never loaded. */
export function isConnectionTimeout(error: unknown): boolean {
  return loaded !== undefined && error instanceof loaded.ConnectionTimeoutError;
}
