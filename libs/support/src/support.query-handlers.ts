import { Inject, Optional } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { type AuditHandle, rejectionsOfTargets } from '@app/audit';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { type AccountState, AccountWriter, IDENTIFIER_HASH, InvalidCommand, type ValueHash } from '@app/identity';
import { mapInSlices, ProjectionRunner, ReadYourWrites } from '@app/projections';
import { diffStates, type StateAt, stateAtInSlices } from './account-history';
import { readAccountStream } from './account-stream.reader';
import { eventEntry, rejectionEntry, selectTimeline } from './account-timeline';
import type { IdentifierHistoryHandle } from './identifier-history.projection';
import { diagnoseNameId, nameIdFromSamlResponse } from './nameid-diagnosis';
import {
  AccountDiffQuery,
  AccountStateAtQuery,
  AccountTimelineQuery,
  DiagnoseNameIdQuery,
  type DiffResult,
  type NameIdDiagnosis,
  SearchIdentifiersQuery,
  type SearchResult,
  type TimelineResult,
} from './support.queries';
import { pointOf, supportTime } from './support-point';
import { SupportReadRecorder } from './support-read.recorder';

/** Refused requests shown in one timeline, at most. */
const TIMELINE_REJECTIONS = 1000;

function identifierHistory(runner: ProjectionRunner): IdentifierHistoryHandle {
  return runner.handle<IdentifierHistoryHandle>('identifier-history');
}

@QueryHandler(SearchIdentifiersQuery)
export class SearchIdentifiersHandler implements IQueryHandler<SearchIdentifiersQuery, SearchResult> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly reads: SupportReadRecorder,
    @Optional() @Inject(IDENTIFIER_HASH) private readonly hash?: ValueHash,
  ) {}

  async execute({ q, at, reader }: SearchIdentifiersQuery): Promise<SearchResult> {
    if (!q) throw new InvalidCommand('q is required', 'q');
    await this.ryw.settle();
    await this.reads.record(reader, 'search');
    const spans = identifierHistory(this.runner).find(q, at ? supportTime(at) : undefined, this.hash);
    const accounts = [...new Set(spans.map((s) => s.accountId))];
    return { query: q, ...(at ? { at } : {}), matches: spans, accounts };
  }
}

@QueryHandler(AccountTimelineQuery)
export class AccountTimelineHandler implements IQueryHandler<AccountTimelineQuery, TimelineResult> {
  constructor(
    private readonly runner: ProjectionRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly reads: SupportReadRecorder,
  ) {}

  async execute({ accountId, filter, reader }: AccountTimelineQuery): Promise<TimelineResult> {
    const events = await readAccountStream(this.store, accountId);
    await this.reads.record(reader, 'timeline', accountId);
    const identityIds = new Set(identifierHistory(this.runner).ofAccount(accountId).filter((s) => s.kind === 'scimId').map((s) => s.value));
    const ids = [...identityIds];
    const rejections = ids.length ? this.runner.handle<AuditHandle>('audit').query(rejectionsOfTargets(ids, TIMELINE_REJECTIONS)) : [];
    const entries = [...(await mapInSlices(events, eventEntry)), ...rejections.map(rejectionEntry)];
    return { accountId, entries: selectTimeline(entries, filter) };
  }
}

@QueryHandler(AccountStateAtQuery)
export class AccountStateAtHandler implements IQueryHandler<AccountStateAtQuery, StateAt> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly reads: SupportReadRecorder,
  ) {}

  async execute({ accountId, point, reader }: AccountStateAtQuery): Promise<StateAt> {
    const events = await readAccountStream(this.store, accountId);
    await this.reads.record(reader, 'state', accountId);
    return stateAtInSlices(events, pointOf(point));
  }
}

@QueryHandler(AccountDiffQuery)
export class AccountDiffHandler implements IQueryHandler<AccountDiffQuery, DiffResult> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly reads: SupportReadRecorder,
  ) {}

  async execute({ accountId, from, to, reader }: AccountDiffQuery): Promise<DiffResult> {
    const events = await readAccountStream(this.store, accountId);
    await this.reads.record(reader, 'diff', accountId);
    const a = await stateAtInSlices(events, pointOf(from));
    const b = await stateAtInSlices(events, pointOf(to));
    return { from: { revision: a.revision, at: a.at }, to: { revision: b.revision, at: b.at }, changes: diffStates(a.state, b.state) };
  }
}

@QueryHandler(DiagnoseNameIdQuery)
export class DiagnoseNameIdHandler implements IQueryHandler<DiagnoseNameIdQuery, NameIdDiagnosis> {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly ryw: ReadYourWrites,
    private readonly writer: AccountWriter,
    private readonly reads: SupportReadRecorder,
    @Optional() @Inject(IDENTIFIER_HASH) private readonly hash?: ValueHash,
  ) {}

  async execute({ nameId, samlResponse, reader }: DiagnoseNameIdQuery): Promise<NameIdDiagnosis> {
    const value = nameId ?? (samlResponse ? nameIdFromSamlResponse(samlResponse) : undefined);
    if (!value) throw new InvalidCommand('nameId (or a samlResponse holding one) is required', 'nameId');
    await this.ryw.settle();
    await this.reads.record(reader, 'nameid-diagnosis');
    const spans = identifierHistory(this.runner).find(value, undefined, this.hash);
    const accounts = new Map<string, AccountState>();
    for (const id of new Set(spans.map((s) => s.accountId))) accounts.set(id, (await this.writer.repository.load(id)).state);
    return { nameId: value, findings: diagnoseNameId(value, spans, accounts) };
  }
}

export const SUPPORT_QUERY_HANDLERS = [SearchIdentifiersHandler, AccountTimelineHandler, AccountStateAtHandler, AccountDiffHandler, DiagnoseNameIdHandler];
