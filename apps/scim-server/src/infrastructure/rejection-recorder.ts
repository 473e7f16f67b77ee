import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVENT_STORE, type EventStore, timeOrderedId } from '@app/event-store';
import { eventMetadata } from '@app/identity';
import { resolveAttribute } from '@app/scim';
import type { MappedError } from './error-mapping';
import { type AppRequest, commandContext, requestState } from './request-context';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * Every SCIM request an authenticated IdP sent that we refused with a 4xx becomes a
 * `ProvisioningRejected` event: reason, scimType, attribute and the target id from the URL,
 * never a value from the body. It answers support's "why did the IdP get a 409?".
 * Unauthenticated requests and rate-limited ones are not recorded: they are not provisioning
 * attempts, and recording them would let anyone fill the log.
 */
@Injectable()
export class RejectionRecorder {
  private readonly logger = new Logger('rejections');

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async record(req: AppRequest, mapped: MappedError): Promise<void> {
    const state = requestState(req);
    if (!state.scope || !state.principal || mapped.status < 400 || mapped.status >= 500 || mapped.status === 429) return;
    const path = (req.url ?? '').split('?')[0];
    const resource = /\/(Users|Groups|Bulk|Schemas|ResourceTypes|ServiceProviderConfig|Me|\.search)/.exec(path)?.[1] ?? 'unknown';
    const targetId = UUID.exec(path.slice(path.indexOf(resource)))?.[0] ?? mapped.targetId;
    const occurredAt = new Date().toISOString();
    try {
      await this.store.append(
        `provisioningRejections-${state.scope}`,
        [
          {
            id: timeOrderedId(),
            type: 'ProvisioningRejected',
            data: {
              scope: state.scope,
              status: mapped.status,
              reason: mapped.reason,
              ...(mapped.scimType ? { scimType: mapped.scimType } : {}),
              ...(auditableAttribute(mapped.attribute) ? { attribute: auditableAttribute(mapped.attribute) } : {}),
              method: req.method,
              resource,
              ...(targetId ? { targetId } : {}),
            },
            metadata: eventMetadata(commandContext(req, mapped.status), state.scope, occurredAt),
          },
        ],
        'any',
      );
    } catch (err) {
      // The refusal itself must still reach the client; the log line keeps the trace.
      this.logger.warn(`could not record a rejection: ${(err as Error).message}`);
    }
  }
}

/** Names of the protocol that errors point at besides schema attributes. */
const PROTOCOL_NAMES = new Set(
  ['filter', 'sortBy', 'sortOrder', 'startIndex', 'cursor', 'count', 'attributes', 'excludedAttributes', 'schemas', 'Operations', 'op', 'path', 'value', 'bulkId', 'method', 'failOnErrors', 'version', 'data'].map((n) => n.toLowerCase()),
);

/**
 * The attribute an error names, as the audit trail may keep it: a schema attribute (in its
 * canonical spelling) or a protocol name. Anything else is raw client text (a PATCH path that
 * is an email address, a filter fragment) and would reach auditors unmasked: it is dropped.
 */
export function auditableAttribute(attribute: string | undefined): string | undefined {
  if (attribute === undefined || attribute.length > 200) return undefined;
  if (PROTOCOL_NAMES.has(attribute.toLowerCase())) return attribute;
  const resolved = resolveAttribute('User', attribute) ?? resolveAttribute('Group', attribute);
  return resolved?.canonicalPath;
}
