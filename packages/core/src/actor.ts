import type { Role } from './schemas';

/** Who is calling: resolved from the API key. Every JobStore call a client makes is scoped by it. */
export interface Actor {
  keyId: string;
  userId: string;
  organizationId: string;
  role: Role;
}

const RANK: Record<Role, number> = { member: 0, admin: 1, operator: 2 };

export function hasRole(actor: Actor, needed: Role): boolean {
  return RANK[actor.role] >= RANK[needed];
}

/** Operators act on any organization's resources by id; everyone else only on their own. */
export function canSeeOrganization(actor: Actor, organizationId: string): boolean {
  return actor.role === 'operator' || actor.organizationId === organizationId;
}
