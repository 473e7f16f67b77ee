/** GitLab's access levels. */
export const ACCESS_LEVELS = {
  minimal_access: 5,
  guest: 10,
  planner: 15,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;

export type AccessLevelName = keyof typeof ACCESS_LEVELS;
export type AccessLevel = (typeof ACCESS_LEVELS)[AccessLevelName];

export function isAccessLevelName(value: unknown): value is AccessLevelName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ACCESS_LEVELS, value);
}

export function accessLevelName(level: number): AccessLevelName {
  const entry = Object.entries(ACCESS_LEVELS).find(([, v]) => v === level);
  if (!entry) throw new Error(`Unknown access level ${level}`);
  return entry[0] as AccessLevelName;
}
