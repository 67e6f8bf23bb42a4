/**
 * Setting a property named by outside data (an object name from labels or
 * files) without the `__proto__` setter turning it into a prototype.
 *
 * @module
 */

/**
 * Sets `target[key] = value` as an own, enumerable, writable property, even
 * when `key` is `__proto__`.
 *
 * @param target The object to write to.
 * @param key The property name, as found in the input.
 * @param value The value.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}
