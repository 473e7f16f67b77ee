import type { RecordedEvent } from '@app/event-store';
import { Slicer } from '@app/projections';
import { type AccountEvent, accountEvents, type AccountState, diffDocuments, evolve, initialState, occurredAtOf } from '@app/identity';

export interface FieldOrigin {
  readonly eventId: string;
  readonly type: string;
  readonly revision: string;
  readonly at: string;
}

export interface StateAt {
  readonly revision: string;
  readonly at: string | null;
  readonly state: AccountState;
  /** `identities.<id>.<attribute>` or `account.<field>` → the event that last set it. */
  readonly setBy: Record<string, FieldOrigin>;
}

/**
 * The account as it stood at a time or a revision, folded with the write side's own
 * `evolve` — so support sees exactly what the system decided with — and, for every field,
 * the event that set it.
 */
export function stateAt(events: readonly RecordedEvent[], point: { atMs?: number; revision?: bigint }): StateAt {
  const fold = new StateFold(point);
  for (const e of events) if (!fold.add(e)) break;
  return fold.result();
}

/** `stateAt`, letting other requests in while it folds a history of many thousands of events. */
export async function stateAtInSlices(events: readonly RecordedEvent[], point: { atMs?: number; revision?: bigint }): Promise<StateAt> {
  const fold = new StateFold(point);
  const slicer = new Slicer();
  for (const e of events) {
    if (!fold.add(e)) break;
    await slicer.maybeYield();
  }
  return fold.result();
}

class StateFold {
  private state = initialState();
  private readonly setBy: Record<string, FieldOrigin> = {};
  private last: RecordedEvent | undefined;

  constructor(private readonly point: { atMs?: number; revision?: bigint }) {}

  /** Folds `e` in; false once `e` lies past the point (nothing after it counts). */
  add(e: RecordedEvent): boolean {
    if (this.point.revision !== undefined && e.revision > this.point.revision) return false;
    if (this.point.atMs !== undefined && Date.parse(occurredAtOf(e)) > this.point.atMs) return false;
    const event = accountEvents.decode(e);
    if (event) {
      this.state = evolve(this.state, event);
      const origin = { eventId: e.id, type: e.type, revision: e.revision.toString(), at: event.occurredAt };
      for (const field of fieldsSet(event)) this.setBy[field] = origin;
    }
    this.last = e;
    return true;
  }

  result(): StateAt {
    const last = this.last;
    return { revision: last ? last.revision.toString() : '-1', at: last ? occurredAtOf(last) : null, state: this.state, setBy: this.setBy };
  }
}

function fieldsSet(event: AccountEvent): string[] {
  const d = event.data as Record<string, unknown>;
  const id = typeof d.identityId === 'string' ? d.identityId : undefined;
  switch (event.type) {
    case 'UserProvisioned':
      return ['account.username', 'account.email', ...Object.keys(event.data.attributes).map((k) => `identities.${event.data.identityId}.${k}`), `identities.${event.data.identityId}.active`];
    case 'IdentityLinked':
      return [...Object.keys(event.data.attributes).map((k) => `identities.${event.data.identityId}.${k}`), `identities.${event.data.identityId}.active`];
    case 'UserProfileUpdated':
      return event.data.changes.map((c) => `identities.${id}.${c.path}`);
    case 'UserNameChanged':
      return [`identities.${id}.userName`];
    case 'ExternIdChanged':
      return [`identities.${id}.externalId`, `identities.${id}.samlNameId`];
    case 'EmailChanged':
      return ['account.email'];
    case 'IdentityDeactivated':
    case 'IdentityReactivated':
    case 'IdentityDeleted':
    case 'IdentityUnlinked':
      return [`identities.${id}.active`];
    case 'UserBlocked':
    case 'UserUnblocked':
      return ['account.state'];
    case 'GroupMembershipChanged':
      return [`memberships.${event.data.groupId}`];
    case 'AccountErased':
      return ['account.erased'];
    default:
      return [];
  }
}

export interface FieldDiff {
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

/** Field-level differences between two states of one account. */
export function diffStates(a: AccountState, b: AccountState): FieldDiff[] {
  const out: FieldDiff[] = [];
  const push = (path: string, from: unknown, to: unknown) => {
    if (JSON.stringify(from) !== JSON.stringify(to)) out.push({ path, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  };
  push('account.username', a.username || undefined, b.username || undefined);
  push('account.email', a.email, b.email);
  push('account.state', a.exists ? (a.blocked ? 'blocked' : 'active') : undefined, b.exists ? (b.blocked ? 'blocked' : 'active') : undefined);
  for (const id of new Set([...Object.keys(a.identities), ...Object.keys(b.identities)])) {
    const x = a.identities[id];
    const y = b.identities[id];
    push(`identities.${id}.active`, x?.active, y?.active);
    push(`identities.${id}.deleted`, x?.deleted, y?.deleted);
    push(`identities.${id}.samlNameId`, x?.samlNameId, y?.samlNameId);
    push(`identities.${id}.userName`, x?.userName, y?.userName);
    push(`identities.${id}.externalId`, x?.externalId, y?.externalId);
    for (const c of diffDocuments(x?.attributes ?? {}, y?.attributes ?? {})) out.push({ ...c, path: `identities.${id}.${c.path}` });
  }
  for (const g of new Set([...Object.keys(a.memberships), ...Object.keys(b.memberships)])) push(`memberships.${g}`, a.memberships[g], b.memberships[g]);
  return out;
}

/** Which IdP a request came from, guessed from its User-Agent. */
export function guessIdp(userAgent: unknown): string | undefined {
  if (typeof userAgent !== 'string') return undefined;
  const ua = userAgent.toLowerCase();
  if (ua.includes('okta')) return 'Okta';
  if (ua.includes('azure') || ua.includes('aad') || ua.includes('microsoft')) return 'Microsoft Entra ID';
  if (ua.includes('onelogin')) return 'OneLogin';
  if (ua.includes('jumpcloud')) return 'JumpCloud';
  if (ua.includes('sailpoint')) return 'SailPoint';
  if (ua.includes('authentik')) return 'authentik';
  return undefined;
}

/** One line a person can read: what changed, from what, to what. */
export function oneLine(type: string, data: Record<string, unknown>): string {
  const changes = (data.changes as { path: string; from?: unknown; to?: unknown }[] | undefined) ?? [];
  switch (type) {
    case 'UserProvisioned':
      return `account ${String(data.username)} provisioned with userName ${String(data.userName)}${data.externalId ? `, externalId ${String(data.externalId)}` : ''}`;
    case 'IdentityLinked':
      return `linked to ${String(data.scope)} as ${String(data.userName)} (${String(data.reason)})`;
    case 'UserProfileUpdated':
      return changes.map((c) => `${c.path}: ${fmt(c.from)} → ${fmt(c.to)}`).join('; ');
    case 'UserNameChanged':
    case 'EmailChanged':
      return `${type === 'EmailChanged' ? 'email' : 'userName'}: ${fmt(data.from)} → ${fmt(data.to)}`;
    case 'ExternIdChanged':
      return `externalId: ${fmt(data.from)} → ${fmt(data.to)} (SAML NameID ${fmt(data.samlNameIdFrom)} → ${fmt(data.samlNameIdTo)})`;
    case 'GroupMembershipChanged':
      return `membership in ${String(data.groupId)} (${String(data.source)}): ${fmt(data.from)} → ${fmt(data.to)} — ${String(data.cause)}`;
    case 'AccountErased':
      return `personal data erased (data key destroyed); unique values ${String(data.uniqueValues)}`;
    case 'ProvisioningRejected':
      return `${String(data.method)} ${String(data.resource)} refused: ${String(data.status)} ${String(data.reason)}${data.attribute ? ` (${String(data.attribute)})` : ''}`;
    default:
      return type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  }
}

function fmt(v: unknown): string {
  return v === undefined || v === null ? '∅' : typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}
