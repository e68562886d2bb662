/**
 * A result that is there at once, or later. The handshake path uses it so that
 * authentication that needs no I/O (a verified token, no database) completes
 * in the same tick: no promise, no deadline timer, and ws finishes the
 * upgrade synchronously.
 */
export type MaybePromise<T> = T | PromiseLike<T>;

export function isPromiseLike<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}

/** `fn(value)` now if `value` is there, after it settles otherwise. */
export function settle<T, R>(value: MaybePromise<T>, fn: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(fn) : fn(value);
}
