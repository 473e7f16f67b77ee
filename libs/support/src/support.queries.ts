import { Query } from '@nestjs/cqrs';
import type { CommandContext } from '@app/identity';
import type { FieldDiff, StateAt } from './account-history';
import type { TimelineEntry, TimelineFilter } from './account-timeline';
import type { IdentifierSpan } from './identifier-history.projection';
import type { NameIdFinding } from './nameid-diagnosis';
import type { HistoryPoint } from './support-point';

/*
 * Support reads. Each carries the reader's context: a read by a support token is itself
 * recorded (`SupportDataRead`) by the handler that serves it.
 */

export interface SearchResult {
  readonly query: string;
  readonly at?: string;
  readonly matches: IdentifierSpan[];
  readonly accounts: string[];
}

export interface TimelineResult {
  readonly accountId: string;
  readonly entries: TimelineEntry[];
}

export interface DiffResult {
  readonly from: { revision: string; at: string | null };
  readonly to: { revision: string; at: string | null };
  readonly changes: FieldDiff[];
}

export interface NameIdDiagnosis {
  readonly nameId: string;
  readonly findings: NameIdFinding[];
}

/** Anyone who ever held identifier `q`; `at` (RFC 3339): only who held it then. */
export class SearchIdentifiersQuery extends Query<SearchResult> {
  constructor(
    readonly q: string | undefined,
    readonly at: string | undefined,
    readonly reader: CommandContext,
  ) {
    super();
  }
}

/** An account's events and the refused requests about its identities, oldest first. */
export class AccountTimelineQuery extends Query<TimelineResult> {
  constructor(
    readonly accountId: string,
    readonly filter: TimelineFilter,
    readonly reader: CommandContext,
  ) {
    super();
  }
}

/** The account as it stood at a point, with the event that set each field. */
export class AccountStateAtQuery extends Query<StateAt> {
  constructor(
    readonly accountId: string,
    readonly point: HistoryPoint,
    readonly reader: CommandContext,
  ) {
    super();
  }
}

/** What changed in an account between two points. */
export class AccountDiffQuery extends Query<DiffResult> {
  constructor(
    readonly accountId: string,
    readonly from: HistoryPoint,
    readonly to: HistoryPoint,
    readonly reader: CommandContext,
  ) {
    super();
  }
}

/** Why a SAML sign-in with this NameID (or the one in a base64 SAML response) works or not. */
export class DiagnoseNameIdQuery extends Query<NameIdDiagnosis> {
  constructor(
    readonly nameId: string | undefined,
    readonly samlResponse: string | undefined,
    readonly reader: CommandContext,
  ) {
    super();
  }
}
