export type { RedisClient, RedisConnection, RedisConnectionOptions } from './connection.ts';
export { createRedisConnection } from './connection.ts';
export type { StoreUnavailableReason } from './errors.ts';
export { isStoreUnavailableError, StoreUnavailableError } from './errors.ts';
export type { RedisFailureKind, RedisLogger } from './failures.ts';
