import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { ErasePersonCommand } from '@app/privacy';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, commandContext } from '../infrastructure/request-context';

export class ErasureDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The person (account) to erase' }) @IsOptional() @IsString() @Length(36, 36) accountId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Or one of their SCIM identities' }) @IsOptional() @IsString() @Length(36, 36) scimId?: string;
  @ApiProperty({ description: 'Why (recorded with the erasure; write no personal data here, e.g. a ticket number)', minLength: 3 })
  @IsString()
  @Length(3, 1000)
  reason!: string;
  @ApiPropertyOptional({ description: 'Say what would be erased; change nothing' }) @IsOptional() @IsBoolean() dryRun?: boolean;
}

export class ErasedIdentityView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() scope!: string;
  @ApiProperty() userName!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty() deleted!: boolean;
}

export class ErasureUniqueValuesView {
  @ApiProperty() count!: number;
  @ApiProperty({ type: [String] }) kinds!: string[];
  @ApiProperty({ enum: ['released', 'kept'] }) after!: 'released' | 'kept';
}

export class ErasureResultView {
  @ApiProperty() dryRun!: boolean;
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ description: 'Their events stored in plaintext by a version before sealing: erasure cannot reach them' }) plaintextEvents!: number;
  @ApiPropertyOptional({ type: [ErasedIdentityView], description: 'Dry run: the identities that disappear' }) identities?: ErasedIdentityView[];
  @ApiPropertyOptional({ description: 'Dry run: events whose personal values become unreadable' }) events?: number;
  @ApiPropertyOptional({ type: ErasureUniqueValuesView, description: 'Dry run: the unique values they hold' }) uniqueValues?: ErasureUniqueValuesView;
  @ApiPropertyOptional({ description: 'The account stream revision of the erasure' }) revision?: string;
  @ApiPropertyOptional({ description: 'The data key was destroyed now (false: it was already gone)' }) keyDestroyed?: boolean;
  @ApiPropertyOptional({ description: 'The person was erased before (this run finished the job)' }) alreadyErased?: boolean;
}

/** Erasure (GDPR Art. 17): admin only. The README's "Erasure" section is the procedure. */
@ApiTags('Support')
@ManagementApi()
@Controller('api/v1/support/erasures')
@UseGuards(ManagementAuthGuard)
@Roles('admin')
export class ErasuresController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiOperation({ summary: "Erase a person's personal data by destroying their data key (dryRun first); the log and its hashes stay" })
  @ApiOkResponse({ type: ErasureResultView })
  @ApiErrors(400, 403, 404)
  @HttpCode(200)
  async erase(@Body() body: ErasureDto, @Req() req: AppRequest) {
    return this.commands.execute(new ErasePersonCommand({ accountId: body.accountId, scimId: body.scimId }, body.dryRun === true, commandContext(req, 200, body.reason)));
  }
}
