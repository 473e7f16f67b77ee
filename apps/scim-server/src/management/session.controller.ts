import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { TokensHandle } from '@app/auth';
import { ProjectionRunner } from '@app/projections';
import { ManagementApi } from '../infrastructure/openapi';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';
import { type AppRequest, requestState } from '../infrastructure/request-context';

export class SessionView {
  @ApiProperty({ enum: ['admin', 'support', 'auditor'] }) role!: string;
  @ApiProperty({ description: 'Whether personal values are shown unmasked' }) pii!: boolean;
  @ApiProperty({ description: 'Token id, or env:ADMIN_TOKEN for the configured admin secret' }) tokenId!: string;
  @ApiPropertyOptional({ description: 'The name given when the token was created' }) name?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
}

/** Who the bearer is: the console shows it and offers only the views the role may use. */
@ApiTags('Session')
@ManagementApi()
@Controller('api/v1/session')
@UseGuards(ManagementAuthGuard)
export class SessionController {
  constructor(private readonly runner: ProjectionRunner) {}

  @Get()
  @Roles('admin', 'support', 'auditor')
  @ApiOperation({ summary: 'The management token making the request: role, PII access, name' })
  @ApiOkResponse({ type: SessionView })
  session(@Req() req: AppRequest): SessionView {
    const p = requestState(req).principal;
    if (p?.kind !== 'management') throw new Error('the guard admits only management tokens');
    const row = this.runner.handle<TokensHandle>('tokens').list('management').find((t) => t.id === p.tokenId);
    return { role: p.role, pii: p.pii, tokenId: p.tokenId, ...(row?.name ? { name: row.name } : {}), ...(row?.expiresAt ? { expiresAt: row.expiresAt } : {}) };
  }
}
