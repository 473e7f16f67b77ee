import { Body, Controller, Get, HttpCode, Logger, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ManagementApi } from '../infrastructure/openapi';
import { ProjectionStatusView, RebuildResultView } from './management.views';
import { IsOptional, IsString, Length } from 'class-validator';
import { Conflict, ResourceNotFound } from '@app/identity';
import { ProjectionRunner, RebuildInProgress } from '@app/projections';
import { ManagementAuthGuard, Roles } from '../infrastructure/management-auth.guard';

export class RebuildDto {
  @ApiPropertyOptional({ description: 'One projection by name; all when absent', example: 'accounts' }) @IsOptional() @IsString() @Length(1, 64) projection?: string;
}

/** Projection status and replay: rebuild one read model (or all) from the log while serving. */
@ApiTags('Projections')
@ManagementApi()
@Controller('api/v1/projections')
@UseGuards(ManagementAuthGuard)
export class ProjectionsController {
  private readonly logger = new Logger('projections');

  constructor(private readonly runner: ProjectionRunner) {}

  @Get()
  @ApiOperation({ summary: 'Every projection: version, generation, position, lag, and rebuild progress while one runs' })
  @ApiOkResponse({ type: [ProjectionStatusView] })
  @Roles('admin', 'support', 'auditor')
  status() {
    return this.runner.status();
  }

  /** Synchronous: answers when the new generation serves, with its rate (events/s). */
  @Post('rebuild')
  @ApiOperation({ summary: 'Rebuild one projection (or all) from the log while serving; answers when the new generation serves' })
  @ApiOkResponse({ type: [RebuildResultView] })
  @ApiErrors(400, 404, 409)
  @HttpCode(200)
  @Roles('admin', 'support')
  async rebuild(@Body() body: RebuildDto) {
    const known = (await this.runner.status()).map((p) => p.name);
    if (body.projection !== undefined && !known.includes(body.projection)) throw new ResourceNotFound('Projection', body.projection);
    const results = await this.runner
      .rebuild(body.projection ?? 'all', (p) => {
        if (p.events % 100_000 < 5000) this.logger.log(`rebuilding ${p.projection}: ${p.position}/${p.head} (${p.eventsPerSecond} events/s)`);
      })
      .catch((err: unknown) => {
        if (err instanceof RebuildInProgress) throw new Conflict(`${err.projection} is already rebuilding; wait for it to finish`);
        throw err;
      });
    return results.map((r) => ({ projection: r.projection, position: r.position.toString(), events: r.events, eventsPerSecond: r.eventsPerSecond }));
  }
}
