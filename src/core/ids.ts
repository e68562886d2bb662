/**
 * User ids and token ids (`jti`) are strings (RFC 7519 §4.1.2, §4.1.7), and never
 * empty. Checked the same way wherever one comes in from the app: JavaScript
 * callers (and `any`) could otherwise pass `undefined`, which `String()` would
 * turn into the id of a user named "undefined", or a number, which would never
 * match the string it stands for.
 */
export function assertId(value: unknown, argument: string, method: string): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    const got = value === '' ? 'an empty string' : typeof value === 'string' ? 'a string' : value === null ? 'null' : typeof value;
    throw new TypeError(`${method}: ${argument} must be a non-empty string; got ${got}.${argument === 'jti' ? " Pass the token's jti claim as it is in the token." : ''}`);
  }
}
