type AnyFunction = (...args: unknown[]) => unknown;

/**
 * A view of `target` whose `key` reads `value`; everything else is read from `target` itself (methods
 * bound to it, so private fields and getters keep working). The target is never modified.
 */
export function withProperty<T extends object>(target: T, key: PropertyKey, value: unknown): T {
  const bound = new WeakMap<AnyFunction, AnyFunction>();
  return new Proxy(target, {
    get(object, property) {
      if (property === key) return value;
      const found: unknown = Reflect.get(object, property, object);
      if (typeof found !== 'function' || property === 'constructor') return found;
      const original = found as AnyFunction;
      let method = bound.get(original);
      if (!method) {
        method = original.bind(object);
        bound.set(original, method);
      }
      return method;
    },
    has(object, property) {
      return property === key || Reflect.has(object, property);
    },
  });
}
