import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
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
  @ApiErrors(400, 403, 404)
  @HttpCode(200)
  async erase(@Body() body: ErasureDto, @Req() req: AppRequest) {
    return this.commands.execute(new ErasePersonCommand({ accountId: body.accountId, scimId: body.scimId }, body.dryRun === true, commandContext(req, 200, body.reason)));
  }
}
