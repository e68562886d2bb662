/** Whether `held` names at least one of `wanted`. */
export function holdsAnyRole(held: readonly string[], wanted: readonly string[]): boolean {
  return wanted.some((role) => held.includes(role));
}
