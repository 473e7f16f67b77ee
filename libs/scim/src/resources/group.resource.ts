import { GROUP_SCHEMA, weakEtag } from './user.resource';

export interface GroupView {
  readonly id: string;
  readonly displayName: string;
  readonly externalId?: string | null;
  readonly created: string;
  readonly lastModified: string;
  readonly version: string;
}

export interface MemberView {
  readonly value: string;
  readonly display?: string;
}

/** The SCIM Group resource; `members` omitted when the caller did not load them. */
export function renderGroup(view: GroupView, baseUrl: string, members?: readonly MemberView[]): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: view.id,
    ...(view.externalId ? { externalId: view.externalId } : {}),
    displayName: view.displayName,
    ...(members
      ? {
          members: members.map((m) => ({
            value: m.value,
            ...(m.display !== undefined ? { display: m.display } : {}),
            $ref: `${baseUrl}/Users/${m.value}`,
            type: 'User',
          })),
        }
      : {}),
    meta: {
      resourceType: 'Group',
      created: view.created,
      lastModified: view.lastModified,
      location: `${baseUrl}/Groups/${view.id}`,
      version: weakEtag(view.version),
    },
  };
}

/** A member's display: displayName, else name.formatted, else userName (as GitLab shows it). */
export function memberDisplay(attributes: Record<string, unknown>): string | undefined {
  if (typeof attributes.displayName === 'string') return attributes.displayName;
  const name = attributes.name as Record<string, unknown> | undefined;
  if (name && typeof name.formatted === 'string') return name.formatted;
  return typeof attributes.userName === 'string' ? attributes.userName : undefined;
}
