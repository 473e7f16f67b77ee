import type { JsonObject } from '@app/event-store';
import type { ScopeId } from './scope';

/** Who caused an event. Token secrets never appear; a short hash prefix identifies one. */
export interface Actor {
  readonly kind: 'scim_token' | 'admin' | 'support' | 'auditor' | 'system';
  readonly id: string;
  readonly tokenId?: string;
  readonly tokenSha256Prefix?: string;
}

export interface RequestInfo {
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly userAgent?: string;
  readonly ip?: string;
}

/** Carried by every command: where it came from, so every event can say who, why and how. */
export interface CommandContext {
  readonly correlationId: string;
  /** The command id; events it produces name it as their cause. */
  readonly commandId: string;
  readonly actor: Actor;
  readonly request?: RequestInfo;
  /** Reason given by a person (remediation commands require one). */
  readonly reason?: string;
}

export const SCHEMA_VERSION = 1;

export function eventMetadata(ctx: CommandContext, scope: ScopeId | 'instance', occurredAt: string): JsonObject {
  return {
    $correlationId: ctx.correlationId,
    $causationId: ctx.commandId,
    scope,
    actor: { ...ctx.actor } as unknown as JsonObject,
    ...(ctx.request ? { request: { ...ctx.request } as unknown as JsonObject } : {}),
    ...(ctx.reason ? { reason: ctx.reason } : {}),
    occurredAt,
    schemaVersion: SCHEMA_VERSION,
  };
}

export function systemContext(correlationId: string, commandId: string): CommandContext {
  return { correlationId, commandId, actor: { kind: 'system', id: 'system' } };
}
