export type { PolicyOrList, WithAllOptions } from './all.ts';
export { withAll } from './all.ts';
export type { AiRequest, CallOptions, UpstreamCallOptions, WrapOptions } from './wrap.ts';
export { wrapCall } from './wrap.ts';
