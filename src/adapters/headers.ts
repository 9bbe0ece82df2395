/** Header reading for the adapters: one implementation, in the wire formats' HTTP module. */
export { headerOf } from '../wire/http.ts';
