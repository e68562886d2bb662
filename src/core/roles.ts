/** Whether `held` names at least one of `wanted`, comparing whole names. */
export function holdsAnyRole(held: readonly string[], wanted: readonly string[]): boolean {
  return wanted.some((role) => held.includes(role));
}

/** Whether `roles` is what `rolesOf` must return: an array of role names. */
export function isRoleList(roles: unknown): roles is readonly string[] {
  return Array.isArray(roles) && roles.every((role) => typeof role === 'string');
}
