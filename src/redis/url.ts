/**
 * A Redis URL safe to log or show: the one URL redaction of the package (`redactUrl`), under the
 * name this module has always exported.
 */
export { redactUrl as redactRedisUrl } from '../core/redact.ts';
