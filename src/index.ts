export * from './core/index.ts';
export * from './redis/index.ts';
export * from './wrap/index.ts';
