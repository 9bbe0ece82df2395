export type { AiRequest, CallOptions, WrapOptions } from './wrap.ts';
export { wrapCall } from './wrap.ts';
