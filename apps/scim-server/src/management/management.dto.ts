import { IsArray, IsBoolean, IsIn, IsISO8601, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ACCESS_LEVELS, type AccessLevelName } from '@app/identity';

const ROLES = Object.keys(ACCESS_LEVELS);

export class CreateGroupDto {
  @ApiProperty({ example: 'acme' }) @IsString() @Length(1, 255) path!: string;
  @ApiProperty({ example: 'Acme Inc' }) @IsString() @Length(1, 255) name!: string;
  @ApiPropertyOptional({ example: 'acme' }) @IsOptional() @IsString() @Length(1, 1024) parentPath?: string;
  @ApiPropertyOptional({ enum: ROLES, default: 'guest' }) @IsOptional() @IsIn(ROLES) defaultMembershipRole?: AccessLevelName;
  @ApiPropertyOptional({ type: [String], example: ['acme.example'] }) @IsOptional() @IsArray() @IsString({ each: true }) @MaxLength(253, { each: true }) verifiedDomains?: string[];
}

export class CreateScimTokenDto {
  @ApiProperty({ enum: ['application', 'group'] }) @IsIn(['application', 'group']) scope!: 'application' | 'group';
  @ApiPropertyOptional({ example: 'acme' }) @IsOptional() @IsString() @Length(1, 1024) groupPath?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) name?: string;
  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z' }) @IsOptional() @IsISO8601({ strict: true }) expiresAt?: string;
}

export class CreateManagementTokenDto {
  @ApiProperty({ enum: ['admin', 'support', 'auditor'] }) @IsIn(['admin', 'support', 'auditor']) role!: 'admin' | 'support' | 'auditor';
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) name?: string;
  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z' }) @IsOptional() @IsISO8601({ strict: true }) expiresAt?: string;
  @ApiPropertyOptional({ description: 'auditor tokens see personal data unmasked' }) @IsOptional() @IsBoolean() pii?: boolean;
}

export class SetMembershipDto {
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) accessLevel!: AccessLevelName;
}

export class GroupSettingsDto {
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) defaultMembershipRole?: AccessLevelName;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @IsString({ each: true }) @MaxLength(253, { each: true }) verifiedDomains?: string[];
}
