import type { JsonObject, JsonValue, RecordedEvent } from '@app/event-store';
import {
  accountEvents,
  type AttributeDocument,
  evolveIdentity,
  type IdentityState,
  isExtensionKey,
  type Occurred,
  type ScimGroupEvent,
  scimGroupEvents,
} from '@app/identity';
import { type AsyncRequestCompleted, AsyncRequestEventTypes } from '../async-request.events';
import { ScimEventUri } from './scim-event-uris';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** RFC 9967 §2.2 `sub_id` of format `scim`: the resource's path relative to the scope's SCIM base. */
export interface ScimSubject extends JsonObject {
  format: 'scim';
  uri: string;
}

/**
 * One SET's worth of a committed change, before a stream makes it a token: the same for
 * every stream of the scope. `notice` holds the default payloads (attribute names, never
 * values); `full` the `:full` twins (values, for streams that opted in) keyed by their own URIs.
 */
export interface FeedEntry {
  /** Set on entries about a stream itself (feed:add/remove, verification): only that stream gets them. */
  readonly streamId?: string;
  readonly position: bigint;
  /** Index of this SET among those the log event yields. */
  readonly index: number;
  readonly scope: string;
  readonly txn: string;
  /** Seconds since the epoch (RFC 8417 NumericDate) when the change happened. */
  readonly toe: number;
  /** `Users`/`Groups` + id: what a stream's subjects are matched against; absent for async responses without a resource. */
  readonly subject?: { readonly resource: 'Users' | 'Groups'; readonly id: string };
  readonly subId?: ScimSubject | { readonly format: string; readonly id: string };
  readonly notice: Record<string, JsonObject>;
  readonly full: Record<string, JsonObject>;
}

/** A SCIM group as the feed needs it to name the subject and render `:full`. */
export interface GroupView {
  readonly id: string;
  readonly scope: string;
  readonly displayName: string;
  readonly externalId?: string;
}

/** What the feed knows before an event: the fold of the log up to it. */
export interface ResourceView {
  identity(id: string): IdentityState | undefined;
  group(id: string): GroupView | undefined;
  /** Whether an async request was a Bulk (its completion's SETs get `txn:<index>`). */
  asyncIsBulk(txn: string): boolean;
}

/** The feed entries of one event and the view's new state for what it touched. */
export interface FeedChange {
  readonly entries: FeedEntry[];
  readonly identity?: IdentityState;
  /** `null`: the group is gone. */
  readonly group?: GroupView | null;
}

const NONE: FeedChange = { entries: [] };

/**
 * The pure mapping from the log to RFC 9967 events (the table in docs/architecture.md's
 * "SCIM events" row): an event and the view before it give the feed entries it yields.
 * Deterministic: replaying the log gives the same entries (same position, index, `txn`).
 * User state is folded with identity's own `evolveIdentity`, so what a SET says matches what
 * SCIM reads serve; `version` is the same ETag the SCIM resource carries.
 */
export function securityEventsFor(e: RecordedEvent, view: ResourceView): FeedChange {
  if (accountEvents.types.has(e.type)) return accountEntries(e, view);
  if (scimGroupEvents.types.has(e.type)) return groupEntries(e, view);
  if (e.type === AsyncRequestEventTypes.completed) return asyncEntries(e, view);
  return NONE;
}

/**
 * An erased person (`AccountErased`): each of their identities still in SCIM is gone from it, so
 * receivers get `prov:delete`, named by id only (no `externalId`: it was their data).
 */
export function erasedEntries(e: RecordedEvent, identities: readonly IdentityState[]): FeedEntry[] {
  return identities
    .filter((i) => !i.deleted && !i.unlinked)
    .map((i, index) => ({
      ...base(e, i.scope, index),
      ...erasedSubject(i.id),
      notice: { [ScimEventUri.delete]: {} },
      full: {},
    }));
}

/** How a SET names a subject whose person was erased: by id alone. */
export function erasedSubject(identityId: string): Pick<FeedEntry, 'subject' | 'subId'> {
  return { subject: { resource: 'Users', id: identityId }, subId: { format: 'scim', uri: `/Users/${identityId}` } };
}

function base(e: RecordedEvent, scope: string, index = 0, txn = txnOf(e)) {
  return { position: e.position, index, scope, txn, toe: toeOf(e) };
}

export function txnOf(e: RecordedEvent): string {
  const c = e.metadata.$correlationId;
  return typeof c === 'string' ? c : e.id;
}

function toeOf(e: RecordedEvent): number {
  const at = e.metadata.occurredAt;
  const ms = typeof at === 'string' ? Date.parse(at) : e.recordedAt.getTime();
  return Math.floor(ms / 1000);
}

const etag = (v: bigint | string) => `W/"${v.toString()}"`;

function methodOf(e: RecordedEvent): string | undefined {
  const r = e.metadata.request as JsonObject | undefined;
  return r && typeof r.method === 'string' ? r.method.toUpperCase() : undefined;
}

function userSubject(identity: IdentityState): Pick<FeedEntry, 'subject' | 'subId'> {
  return {
    subject: { resource: 'Users', id: identity.id },
    subId: { format: 'scim', uri: `/Users/${identity.id}`, ...(identity.externalId !== undefined ? { externalId: identity.externalId } : {}) },
  };
}

function groupSubject(g: GroupView): Pick<FeedEntry, 'subject' | 'subId'> {
  return {
    subject: { resource: 'Groups', id: g.id },
    subId: { format: 'scim', uri: `/Groups/${g.id}`, ...(g.externalId !== undefined ? { externalId: g.externalId } : {}) },
  };
}

/** Attribute names a SET may name: never `password` (RFC 9967 §2.1: no password in any event). */
const withoutPassword = (names: Iterable<string>) => [...new Set([...names].filter((n) => n.toLowerCase() !== 'password'))].sort();

function stripPassword(doc: AttributeDocument): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(doc)) if (k.toLowerCase() !== 'password') out[k] = v as JsonValue;
  return out;
}

function userResource(identity: IdentityState, version: string): JsonObject {
  const attributes = stripPassword(identity.attributes);
  const extensions = Object.keys(attributes).filter(isExtensionKey);
  return {
    schemas: [USER_SCHEMA, ...extensions],
    id: identity.id,
    ...attributes,
    active: identity.active,
    meta: { resourceType: 'User', version },
  };
}

function groupResource(g: GroupView, version: string): JsonObject {
  return {
    schemas: [GROUP_SCHEMA],
    id: g.id,
    displayName: g.displayName,
    ...(g.externalId !== undefined ? { externalId: g.externalId } : {}),
    meta: { resourceType: 'Group', version },
  };
}

/** The `put`/`patch` pair for a change, after the request that made it (PATCH unless it was a PUT). */
function changeUris(e: RecordedEvent): { notice: string; full: string } {
  return methodOf(e) === 'PUT'
    ? { notice: ScimEventUri.putNotice, full: ScimEventUri.putFull }
    : { notice: ScimEventUri.patchNotice, full: ScimEventUri.patchFull };
}

function accountEntries(e: RecordedEvent, view: ResourceView): FeedChange {
  const event = accountEvents.decode(e);
  if (!event) return NONE;
  const version = etag(e.revision);
  switch (event.type) {
    case 'UserProvisioned':
    case 'IdentityLinked': {
      const after = evolveIdentity(undefined, event) as IdentityState;
      return { identity: after, entries: [created(e, after, version)] };
    }
    case 'UserProfileUpdated':
    case 'UserNameChanged':
    case 'ExternIdChanged': {
      const before = view.identity(event.data.identityId);
      const after = before && evolveIdentity(before, event);
      if (!before || !after) return NONE;
      const changes =
        event.type === 'UserProfileUpdated'
          ? event.data.changes.map((c) => ({ path: c.path, to: c.to }))
          : [{ path: event.type === 'UserNameChanged' ? 'userName' : 'externalId', to: event.data.to }];
      const names = withoutPassword(changes.map((c) => c.path));
      if (before.deleted || before.unlinked || names.length === 0) return { identity: after, entries: [] };
      const uris = changeUris(e);
      const full: JsonObject =
        uris.full === ScimEventUri.putFull
          ? { data: userResource(after, version), version }
          : {
              data: {
                schemas: [PATCH_OP],
                Operations: changes
                  .filter((c) => c.path.toLowerCase() !== 'password')
                  .map((c): JsonObject => (c.to === undefined ? { op: 'remove', path: c.path } : { op: 'replace', path: c.path, value: c.to as JsonValue })),
              },
              version,
            };
      return {
        identity: after,
        entries: [{ ...base(e, after.scope), ...userSubject(after), notice: { [uris.notice]: { attributes: names, version } }, full: { [uris.full]: full } }],
      };
    }
    case 'IdentityDeactivated':
    case 'IdentityReactivated':
    case 'IdentityDeleted':
    case 'IdentityUnlinked': {
      const before = view.identity(event.data.identityId);
      const after = before && evolveIdentity(before, event);
      if (!before || !after) return NONE;
      if (event.type === 'IdentityDeleted' || event.type === 'IdentityUnlinked') {
        if (before.deleted || before.unlinked) return { identity: after, entries: [] };
        return { identity: after, entries: [{ ...base(e, after.scope), ...userSubject(after), notice: { [ScimEventUri.delete]: {} }, full: {} }] };
      }
      // A re-POST of a deleted user brings it back: to a receiver it appears again.
      if (event.type === 'IdentityReactivated' && before.deleted) return { identity: after, entries: [created(e, after, version)] };
      if (before.deleted || before.active === after.active || methodOf(e) === 'DELETE') return { identity: after, entries: [] };
      const uris = changeUris(e);
      const flip = after.active ? ScimEventUri.activate : ScimEventUri.deactivate;
      const full =
        uris.full === ScimEventUri.putFull
          ? { data: userResource(after, version), version }
          : { data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: after.active }] }, version };
      return {
        identity: after,
        entries: [
          { ...base(e, after.scope), ...userSubject(after), notice: { [uris.notice]: { attributes: ['active'], version }, [flip]: {} }, full: { [uris.full]: full } },
        ],
      };
    }
    case 'ScimGroupMembersAdded':
    case 'ScimGroupMembersRemoved': {
      const group = view.group(event.data.groupId);
      if (!group) return NONE;
      const version = etag(e.position);
      const op = event.type === 'ScimGroupMembersAdded' ? 'add' : 'remove';
      const operations =
        op === 'add'
          ? [{ op, path: 'members', value: event.data.members.map((value) => ({ value })) }]
          : event.data.members.map((m) => ({ op, path: `members[value eq "${m}"]` }));
      return {
        entries: [
          {
            ...base(e, group.scope),
            ...groupSubject(group),
            notice: { [ScimEventUri.patchNotice]: { attributes: ['members'], version } },
            full: { [ScimEventUri.patchFull]: { data: { schemas: [PATCH_OP], Operations: operations }, version } },
          },
        ],
      };
    }
    default:
      return NONE;
  }
}

function created(e: RecordedEvent, after: IdentityState, version: string): FeedEntry {
  const names = withoutPassword([...Object.keys(after.attributes), 'active']);
  return {
    ...base(e, after.scope),
    ...userSubject(after),
    notice: { [ScimEventUri.createNotice]: { attributes: names, version } },
    full: { [ScimEventUri.createFull]: { data: userResource(after, version), version } },
  };
}

function groupEntries(e: RecordedEvent, view: ResourceView): FeedChange {
  const event = scimGroupEvents.decode(e) as Occurred<ScimGroupEvent> | undefined;
  if (!event) return NONE;
  const version = etag(e.position);
  const d = event.data;
  const before = view.group(d.groupId);
  switch (event.type) {
    case 'ScimGroupCreated': {
      const g: GroupView = { id: d.groupId, scope: d.scope, displayName: event.data.displayName, ...(event.data.externalId !== undefined ? { externalId: event.data.externalId } : {}) };
      const names = ['displayName', ...(g.externalId !== undefined ? ['externalId'] : [])];
      return {
        group: g,
        entries: [
          {
            ...base(e, g.scope),
            ...groupSubject(g),
            notice: { [ScimEventUri.createNotice]: { attributes: names, version } },
            full: { [ScimEventUri.createFull]: { data: groupResource(g, version), version } },
          },
        ],
      };
    }
    case 'ScimGroupRenamed':
    case 'ScimGroupExternalIdChanged': {
      if (!before) return NONE;
      const g: GroupView =
        event.type === 'ScimGroupRenamed'
          ? { ...before, displayName: event.data.to }
          : (({ externalId: _, ...rest }) => (event.data.to !== undefined ? { ...rest, externalId: event.data.to } : rest))(before);
      const path = event.type === 'ScimGroupRenamed' ? 'displayName' : 'externalId';
      const uris = changeUris(e);
      const value = event.data.to;
      const full: JsonObject =
        uris.full === ScimEventUri.putFull
          ? { data: groupResource(g, version), version }
          : { data: { schemas: [PATCH_OP], Operations: [value === undefined ? ({ op: 'remove', path } as JsonObject) : { op: 'replace', path, value }] }, version };
      return {
        group: g,
        entries: [{ ...base(e, g.scope), ...groupSubject(g), notice: { [uris.notice]: { attributes: [path], version } }, full: { [uris.full]: full } }],
      };
    }
    case 'ScimGroupDeleted': {
      const g = before ?? { id: d.groupId, scope: d.scope, displayName: event.data.displayName };
      return { group: null, entries: [{ ...base(e, g.scope), ...groupSubject(g), notice: { [ScimEventUri.delete]: {} }, full: {} }] };
    }
  }
}

/** RFC 9967 §2.5: one `misc:asyncresp` per operation; a Bulk's carry `txn` = `<txn>:<index>`. */
function asyncEntries(e: RecordedEvent, view: ResourceView): FeedChange {
  const done = e.data as AsyncRequestCompleted;
  const bulk = view.asyncIsBulk(done.txn) || done.operations.length > 1;
  return {
    entries: done.operations.map((op, index) => {
      const location = typeof op.location === 'string' ? op.location : null;
      const m = location ? /\/(Users|Groups)\/([^/?#]+)$/.exec(location) : null;
      const payload: JsonObject = {
        method: op.method,
        status: op.status,
        ...(op.bulkId !== null && op.bulkId !== undefined ? { bulkId: op.bulkId } : {}),
        ...(location ? { location } : {}),
        ...(op.version !== null && op.version !== undefined ? { version: op.version } : {}),
        ...(op.response ? { response: op.response } : {}),
      };
      return {
        ...base(e, done.scope, index, bulk ? `${done.txn}:${index}` : done.txn),
        ...(m ? asyncSubject(m[1] as 'Users' | 'Groups', m[2], view) : {}),
        notice: { [ScimEventUri.asyncResponse]: payload },
        full: {},
      };
    }),
  };
}

/**
 * The subject of an async operation's resource, named as its change SETs name it (with its
 * `externalId`), so a receiver that keys on `sub_id` matches the response to the resource.
 */
function asyncSubject(resource: 'Users' | 'Groups', id: string, view: ResourceView): Pick<FeedEntry, 'subject' | 'subId'> {
  const known = resource === 'Users' ? view.identity(id) : view.group(id);
  if (known) return resource === 'Users' ? userSubject(known as IdentityState) : groupSubject(known as GroupView);
  // Gone by now (a DELETE): the path alone.
  return { subject: { resource, id }, subId: { format: 'scim', uri: `/${resource}/${id}` } };
}

/**
 * The entry with its resource's version moved on: a request that changes a user may append
 * more account events after the one a SET is made of (a deactivation that blocks the account),
 * and `version` must be the ETag the request answered with.
 */
export function withVersion(entry: FeedEntry, version: string): FeedEntry {
  const bump = (events: Record<string, JsonObject>) =>
    Object.fromEntries(
      Object.entries(events).map(([uri, p]) => {
        if (typeof p.version !== 'string') return [uri, p];
        const data = p.data as JsonObject | undefined;
        const meta = data?.meta as JsonObject | undefined;
        return [uri, { ...p, version, ...(data && meta ? { data: { ...data, meta: { ...meta, version } } } : {}) }];
      }),
    );
  return { ...entry, notice: bump(entry.notice), full: bump(entry.full) };
}

/** The ETag of a user after an account event (the account stream's revision). */
export const userVersionAfter = (e: RecordedEvent) => etag(e.revision);
