import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ACCESS_LEVELS } from '@app/identity';

const LEVELS = Object.keys(ACCESS_LEVELS);

export class GroupView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'eng' }) path!: string;
  @ApiProperty({ example: 'Engineering' }) name!: string;
  @ApiProperty({ example: 'acme/eng' }) fullPath!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) parentId!: string | null;
  @ApiProperty({ enum: LEVELS }) defaultMembershipRole!: string;
  @ApiProperty({ type: [String] }) verifiedDomains!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class MemberView {
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: LEVELS }) accessLevel!: string;
  @ApiProperty({ description: 'Where the level comes from: admin, default, saml-link:<id>…' }) source!: string;
  @ApiProperty({ enum: ['active', 'blocked'] }) state!: string;
}

export class AccountView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ type: String, nullable: true }) email!: string | null;
  @ApiProperty({ enum: ['active', 'blocked'] }) state!: string;
}

export class MembershipView {
  @ApiProperty({ format: 'uuid' }) groupId!: string;
  @ApiProperty({ type: String, nullable: true, example: 'acme/eng' }) groupPath!: string | null;
  @ApiProperty({ enum: LEVELS }) accessLevel!: string;
  @ApiProperty() source!: string;
}

export class AccountMembershipsView {
  @ApiProperty({ type: AccountView }) account!: AccountView;
  @ApiProperty({ type: [MembershipView] }) memberships!: MembershipView[];
}

export class IdentityAccountView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ type: String, nullable: true }) email!: string | null;
  @ApiProperty({ enum: ['active', 'blocked'] }) state!: string;
}

export class IdentityView {
  @ApiProperty({ format: 'uuid' }) scimId!: string;
  @ApiProperty({ example: 'group:acme', description: '`application` or `group:<top-level path>`' }) scope!: string;
  @ApiProperty() userName!: string;
  @ApiProperty({ type: String, nullable: true }) externalId!: string | null;
  @ApiProperty() samlNameId!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty() deleted!: boolean;
  @ApiProperty({ type: IdentityAccountView }) account!: IdentityAccountView;
}

export class RebuildingView {
  @ApiProperty({ description: 'Position the new generation has reached' }) position!: string;
  @ApiProperty({ description: 'Log head when the rebuild started' }) head!: string;
  @ApiProperty() eventsPerSecond!: number;
}

export class ProjectionStatusView {
  @ApiProperty({ example: 'accounts' }) name!: string;
  @ApiProperty() version!: number;
  @ApiProperty() generation!: number;
  @ApiProperty({ description: 'Last log position applied (a decimal string)' }) position!: string;
  @ApiProperty({ description: 'Events behind the log head' }) lag!: string;
  @ApiPropertyOptional({ type: RebuildingView, description: 'Present while a rebuild runs: poll this for progress' }) rebuilding?: RebuildingView;
}

export class RebuildResultView {
  @ApiProperty() projection!: string;
  @ApiProperty() position!: string;
  @ApiProperty() events!: number;
  @ApiProperty() eventsPerSecond!: number;
}

export class SamlGroupLinkView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() samlGroupName!: string;
  @ApiProperty() groupPath!: string;
  @ApiProperty({ format: 'uuid' }) groupId!: string;
  @ApiProperty({ enum: LEVELS }) accessLevel!: string;
}

export class CreatedSamlGroupLinkView extends SamlGroupLinkView {
  @ApiProperty({ description: 'Accounts whose memberships were recomputed' }) resyncedAccounts!: number;
}

export class TokenView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiPropertyOptional({ description: 'SCIM tokens: `application` or `group:<id>`' }) scope?: string;
  @ApiPropertyOptional({ enum: ['admin', 'support', 'auditor'], description: 'Management tokens' }) role?: string;
  @ApiPropertyOptional({ description: 'Management tokens: personal data unmasked' }) pii?: boolean;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) expiresAt!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) revokedAt!: string | null;
  @ApiProperty() active!: boolean;
}

export class IssuedScimTokenView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The SCIM base URL to give the IdP' }) scim_api_url!: string;
  @ApiProperty({ description: 'The secret, shown this once only' }) scim_token!: string;
  @ApiPropertyOptional({ format: 'date-time' }) expires_at?: string;
}

export class IssuedManagementTokenView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['admin', 'support', 'auditor'] }) role!: string;
  @ApiProperty({ description: 'The secret, shown this once only' }) token!: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
}
