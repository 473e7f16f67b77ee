import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FREE_OBJECT } from '../infrastructure/openapi';

export class IdentifierSpanView {
  @ApiProperty({ enum: ['userName', 'externalId', 'nameId', 'email', 'username', 'scimId', 'accountId'] }) kind!: string;
  @ApiProperty() value!: string;
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) identityId!: string | null;
  @ApiProperty({ type: String, nullable: true }) scope!: string | null;
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'null: still held' }) to!: string | null;
}

export class SearchView {
  @ApiProperty() query!: string;
  @ApiPropertyOptional({ format: 'date-time' }) at?: string;
  @ApiProperty({ type: [IdentifierSpanView] }) matches!: IdentifierSpanView[];
  @ApiProperty({ type: [String], description: 'Distinct account ids among the matches' }) accounts!: string[];
}

export class TimelineEntryView {
  @ApiProperty() position!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty() type!: string;
  @ApiProperty() scope!: string;
  @ApiProperty({ ...FREE_OBJECT }) actor!: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'The IdP guessed from the User-Agent (okta, entra, …)' }) idp?: string;
  @ApiPropertyOptional() requestId?: string;
  @ApiProperty({ enum: ['success', 'rejected'] }) outcome!: string;
  @ApiProperty() summary!: string;
  @ApiProperty({ ...FREE_OBJECT }) data!: Record<string, unknown>;
}

export class TimelineView {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ type: [TimelineEntryView] }) entries!: TimelineEntryView[];
}

export class FieldOriginView {
  @ApiProperty() eventId!: string;
  @ApiProperty() type!: string;
  @ApiProperty() revision!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class StateAtView {
  @ApiProperty() revision!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) at!: string | null;
  @ApiProperty({ ...FREE_OBJECT, description: 'The account as the write side folds it' }) state!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/FieldOriginView' }, description: '`identities.<id>.<attribute>` or `account.<field>` → the event that last set it' })
  setBy!: Record<string, FieldOriginView>;
}

export class PointView {
  @ApiProperty() revision!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) at!: string | null;
}

export class FieldDiffView {
  @ApiProperty({ example: 'identities.<id>.externalId' }) path!: string;
  @ApiPropertyOptional({ description: 'Absent: the field did not exist' }) from?: unknown;
  @ApiPropertyOptional() to?: unknown;
}

export class DiffView {
  @ApiProperty({ type: PointView }) from!: PointView;
  @ApiProperty({ type: PointView }) to!: PointView;
  @ApiProperty({ type: [FieldDiffView] }) changes!: FieldDiffView[];
}

export class NameIdFindingView {
  @ApiProperty({ enum: ['exact_match', 'case_only_mismatch', 'no_match', 'externalid_changed', 'previously_held_by_other', 'identity_inactive', 'identity_deleted', 'email_moved', 'matches_username_not_nameid'] })
  code!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional() identityId?: string;
  @ApiPropertyOptional() accountId?: string;
  @ApiPropertyOptional() from?: string;
  @ApiPropertyOptional() to?: string;
  @ApiPropertyOptional({ format: 'date-time' }) at?: string;
}

export class NameIdDiagnosisView {
  @ApiProperty() nameId!: string;
  @ApiProperty({ type: [NameIdFindingView] }) findings!: NameIdFindingView[];
}

export class RemediationResultView {
  @ApiProperty() dryRun!: boolean;
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiPropertyOptional({ description: 'The account stream revision written (not on a dry run)' }) revision?: string;
  @ApiProperty({ type: 'array', items: FREE_OBJECT, description: 'The events written, or that would be written on a dry run' }) events!: Record<string, unknown>[];
}
