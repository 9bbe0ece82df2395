export type { Clock } from './clock.ts';
export { systemClock } from './clock.ts';
export type { Next, Policy } from './compose.ts';
export { compose } from './compose.ts';
export type {
  CallContext,
  CallContextInit,
  Decisions,
  Operation,
  RequestCacheControl,
  ResponseHeaders,
  ServerTimingEntry,
} from './context.ts';
export { createCallContext } from './context.ts';
export type { ErrorBody, ErrorOptions, ErrorType, RateLimitScope, TimeoutKind } from './errors.ts';
export {
  AlchemistError,
  AuthenticationError,
  BadRequestError,
  BudgetExceededError,
  CircuitOpenError,
  errorTypeOf,
  isAlchemistError,
  isAuthenticationError,
  isBadRequestError,
  isBudgetExceededError,
  isCircuitOpenError,
  isOverloadedError,
  isPayloadTooLargeError,
  isRateLimitedError,
  isUpstreamError,
  isUpstreamTimeoutError,
  OverloadedError,
  PayloadTooLargeError,
  RateLimitedError,
  UpstreamError,
  UpstreamTimeoutError,
} from './errors.ts';
export { registerSecrets } from './redact.ts';
export type { AiResult, JsonResult, StreamResult, TokenUsage } from './result.ts';
export { jsonResult, streamResult } from './result.ts';
