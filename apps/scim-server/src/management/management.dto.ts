import { IsArray, IsBoolean, IsIn, IsISO8601, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { ACCESS_LEVELS, type AccessLevelName } from '@app/identity';

const ROLES = Object.keys(ACCESS_LEVELS);

export class CreateGroupDto {
  @IsString() @Length(1, 255) path!: string;
  @IsString() @Length(1, 255) name!: string;
  @IsOptional() @IsString() @Length(1, 1024) parentPath?: string;
  @IsOptional() @IsIn(ROLES) defaultMembershipRole?: AccessLevelName;
  @IsOptional() @IsArray() @IsString({ each: true }) @MaxLength(253, { each: true }) verifiedDomains?: string[];
}

export class CreateScimTokenDto {
  @IsIn(['application', 'group']) scope!: 'application' | 'group';
  @IsOptional() @IsString() @Length(1, 1024) groupPath?: string;
  @IsOptional() @IsString() @Length(1, 255) name?: string;
  @IsOptional() @IsISO8601({ strict: true }) expiresAt?: string;
}

export class CreateManagementTokenDto {
  @IsIn(['admin', 'support', 'auditor']) role!: 'admin' | 'support' | 'auditor';
  @IsOptional() @IsString() @Length(1, 255) name?: string;
  @IsOptional() @IsISO8601({ strict: true }) expiresAt?: string;
  @IsOptional() @IsBoolean() pii?: boolean;
}

export class SetMembershipDto {
  @IsIn(ROLES) accessLevel!: AccessLevelName;
}
