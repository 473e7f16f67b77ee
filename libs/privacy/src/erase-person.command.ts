import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '@app/identity';

export interface ErasureRequest {
  /** The person (account) to erase, or one of their SCIM identities. */
  readonly accountId?: string;
  readonly scimId?: string;
}

export interface ErasurePlan {
  readonly accountId: string;
  /** Their identities (scope, SCIM id, userName as it is now): what disappears from SCIM. */
  readonly identities: readonly { readonly id: string; readonly scope: string; readonly userName: string; readonly active: boolean; readonly deleted: boolean }[];
  /** Events of their stream whose personal fields become unreadable. */
  readonly events: number;
  /** Unique values (userName, NameID, email, username) released, or kept reserved. */
  readonly uniqueValues: { readonly count: number; readonly kinds: readonly string[]; readonly after: 'released' | 'kept' };
  /**
   * Their events stored in plaintext by a version before sealing: erasure cannot make those
   * unreadable (the README says what to do). 0 on a log written by this version.
   */
  readonly plaintextEvents: number;
}

export type ErasureResult =
  | ({ readonly dryRun: true } & ErasurePlan)
  | { readonly dryRun: false; readonly accountId: string; readonly revision: string; readonly keyDestroyed: boolean; readonly alreadyErased: boolean; readonly plaintextEvents: number };

/**
 * Erase a person's personal data (GDPR Art. 17) by destroying their data key. Admin only, a
 * reason required at the edge (recorded in the event's metadata); `dryRun` says what would be
 * erased and changes nothing.
 */
export class ErasePersonCommand extends Command<ErasureResult> {
  constructor(
    readonly request: ErasureRequest,
    readonly dryRun: boolean,
    readonly ctx: CommandContext,
  ) {
    super();
  }
}

/** What the composition root does once a key is gone (the embedded store truncates its WAL). */
export interface ErasureHousekeeping {
  afterErasure(): Promise<void>;
}
export const ERASURE_HOUSEKEEPING = Symbol('ERASURE_HOUSEKEEPING');
/** `true`: an erased person's unique values stay reserved (default: released). */
export const ERASURE_KEEPS_UNIQUE_VALUES = Symbol('ERASURE_KEEPS_UNIQUE_VALUES');
/** The store as it stores (no opening): the composition root's raw event store. */
export const RAW_EVENT_STORE_FOR_ERASURE = Symbol('RAW_EVENT_STORE_FOR_ERASURE');
