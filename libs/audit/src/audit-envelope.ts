import type { JsonObject, RecordedEvent } from '@app/event-store';

export interface AuditChange {
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

/** One event as auditors read it: who did what to whom, when, with what outcome. */
export interface AuditEnvelope {
  readonly id: string;
  readonly type: string;
  readonly position: string;
  readonly stream: string;
  readonly revision: string;
  readonly scope: string;
  readonly recordedAt: string;
  readonly occurredAt: string;
  readonly actor: JsonObject;
  readonly target: { readonly type: string; readonly id: string; readonly identityId?: string };
  readonly changes: readonly AuditChange[];
  readonly outcome: 'success' | 'rejected';
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly request?: JsonObject;
  readonly data: JsonObject;
}

/** Streams that are bookkeeping, not facts about people or configuration. */
export function isAudited(e: Pick<RecordedEvent, 'streamId'>): boolean {
  return (
    !e.streamId.startsWith('unique-') &&
    !e.streamId.startsWith('auditCheckpoints-') &&
    e.streamId !== 'auditSigningKeys' &&
    // scimCursorSecret: the key sealing SCIM paging cursors (CursorKeyring) must not reach exports.
    e.streamId !== 'scimCursorSecret' &&
    // SET delivery progress (acks, push cursor): bookkeeping; failures are on the stream itself.
    !e.streamId.startsWith('setDelivery-')
  );
}

export function toAuditEnvelope(e: RecordedEvent): AuditEnvelope {
  const m = e.metadata;
  const d = e.data as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    id: e.id,
    type: e.type,
    position: e.position.toString(),
    stream: e.streamId,
    revision: e.revision.toString(),
    scope: str(m.scope) ?? 'instance',
    recordedAt: e.recordedAt.toISOString(),
    occurredAt: str(m.occurredAt) ?? e.recordedAt.toISOString(),
    actor: (m.actor as JsonObject | undefined) ?? { kind: 'system', id: 'system' },
    target: targetOf(e.streamId, e.type, d),
    changes: changesOf(e.type, d),
    outcome: e.type === 'ProvisioningRejected' ? 'rejected' : 'success',
    ...(str(m.$correlationId) ? { correlationId: str(m.$correlationId) } : {}),
    ...(str(m.$causationId) ? { causationId: str(m.$causationId) } : {}),
    ...(m.request ? { request: m.request as JsonObject } : {}),
    data: withoutSecrets(e.data),
  };
}

/** A SET stream's receiver authorization header is a credential: the audit trail says only that it was set. */
function withoutSecrets(data: JsonObject): JsonObject {
  if (typeof data.authorizationHeader !== 'string') return data;
  return { ...data, authorizationHeader: '(set)' };
}

function targetOf(stream: string, type: string, d: Record<string, unknown>): AuditEnvelope['target'] {
  const dash = stream.indexOf('-');
  const kind = dash > 0 ? stream.slice(0, dash) : stream;
  const id = dash > 0 ? stream.slice(dash + 1) : stream;
  if (kind === 'account') {
    const identityId = typeof d.identityId === 'string' ? d.identityId : undefined;
    return { type: 'account', id, ...(identityId ? { identityId } : {}) };
  }
  if (type === 'ProvisioningRejected') return { type: 'request', id: typeof d.targetId === 'string' ? d.targetId : id };
  return { type: kind, id };
}

/** The envelope with other data (opened personal fields): its changes follow from the data. */
export function withData(env: AuditEnvelope, data: JsonObject): AuditEnvelope {
  return { ...env, data, changes: changesOf(env.type, data as Record<string, unknown>) };
}

function changesOf(type: string, d: Record<string, unknown>): AuditChange[] {
  const pair = (path: string, from: unknown, to: unknown): AuditChange => ({ path, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  switch (type) {
    case 'UserProfileUpdated':
      return (d.changes as AuditChange[]) ?? [];
    case 'UserNameChanged':
      return [pair('userName', d.from, d.to)];
    case 'ExternIdChanged':
      return [pair('externalId', d.from, d.to), pair('samlNameId', d.samlNameIdFrom, d.samlNameIdTo)];
    case 'EmailChanged':
      return [pair('email', d.from, d.to)];
    case 'GroupMembershipChanged':
      return [pair(`membership.${String(d.groupId)}.${String(d.source)}`, d.from, d.to)];
    case 'IdentityDeactivated':
      return [pair('active', true, false)];
    case 'IdentityReactivated':
      return [pair('active', false, true)];
    case 'UserBlocked':
      return [pair('state', 'active', 'blocked')];
    case 'UserUnblocked':
      return [pair('state', 'blocked', 'active')];
    case 'ScimGroupRenamed':
      return [pair('displayName', d.from, d.to)];
    case 'ScimGroupMembersAdded':
      return [pair(`scimGroup.${String(d.groupId)}.members`, undefined, d.members)];
    case 'ScimGroupMembersRemoved':
      return [pair(`scimGroup.${String(d.groupId)}.members`, d.members, undefined)];
    default:
      return [];
  }
}

// `body`: an accepted asynchronous request keeps the client's whole body (libs/events) — masked whole.
const PERSONAL = new Set(['body', 'userName', 'externalId', 'samlNameId', 'samlNameIdFrom', 'samlNameIdTo', 'email', 'emails', 'name', 'displayName', 'phoneNumbers', 'addresses', 'nickName', 'username', 'attributes', 'from', 'to', 'title', 'manager']);
const PERSONAL_PATHS = /^(userName|externalId|samlNameId|email|emails|name|displayName|phoneNumbers|addresses|nickName|title|urn:.*)$/;

/**
 * For auditors without the `pii` grant: ids stay, personal values become "***". Raw client
 * text goes too: a request path keeps only the route's own words and ids (a client may put an
 * email address in a URL), and an attribute path keeps its name, not its filter
 * (`emails[value eq "…"]` becomes `emails[***]`).
 */
export function maskEnvelope(env: AuditEnvelope): AuditEnvelope {
  return {
    ...env,
    ...(env.request ? { request: maskRequest(env.request) } : {}),
    changes: env.changes.map((c) =>
      PERSONAL_PATHS.test(c.path.split('.')[0]) || c.path.startsWith('urn:')
        ? { path: c.path, ...(c.from !== undefined ? { from: '***' } : {}), ...(c.to !== undefined ? { to: '***' } : {}) }
        : c,
    ),
    data: maskObject(env.data) as JsonObject,
  };
}

// The words of our own routes; any other path segment may be client text.
const ROUTE_WORDS = new Set(
  'api scim v1 v2 application Users Groups Bulk Me .search Schemas ResourceTypes ServiceProviderConfig groups members identities accounts support audit tokens projections saml-group-links health metrics search timeline state nameid-diagnosis remediation export exports checkpoints keys verification events rebuild live ready'.split(' '),
);
const ROUTE_PARAM = /^:[A-Za-z]+$/;
const ID_SEGMENT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9]+)$/i;

function maskRequest(request: JsonObject): JsonObject {
  const path = request.path;
  if (typeof path !== 'string') return request;
  const masked = path
    .split('/')
    // `:name` is a route parameter the request context already replaced (client text never stored).
    .map((segment) => (segment === '' || ROUTE_WORDS.has(segment) || ID_SEGMENT.test(segment) || ROUTE_PARAM.test(segment) ? segment : '***'))
    .join('/');
  return { ...request, path: masked };
}

/** An attribute path without its filter, and nothing at all if it is not a path. */
function maskAttributePath(path: string): string {
  const name = path.replace(/\[[\s\S]*$/, '[***]');
  return /^[A-Za-z0-9_.:$-]*(\[\*\*\*\])?$/.test(name) ? name : '***';
}

function maskObject(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskObject);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'changes' && Array.isArray(v)) out[k] = (v as AuditChange[]).map((c) => ({ path: c.path, from: '***', to: '***' }));
    else if (PERSONAL.has(k) && v !== null && v !== undefined) out[k] = '***';
    else if (k === 'attribute' && typeof v === 'string') out[k] = maskAttributePath(v);
    // An accepted asynchronous request's URL: client text in it as in a request path, and no query (filters).
    else if (k === 'url' && typeof v === 'string') out[k] = maskRequest({ path: v.split('?')[0]! }).path;
    else out[k] = maskObject(v);
  }
  return out;
}

/** An audit record with its place in its scope's hash chain. */
export interface ChainedEnvelope extends AuditEnvelope {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}
