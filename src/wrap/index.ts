export type { AiRequest, CallOptions, UpstreamCallOptions, WrapOptions } from './wrap.ts';
export { wrapCall } from './wrap.ts';
