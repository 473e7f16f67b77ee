import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { RejectionRecorder } from './rejection-recorder';
import type { FastifyReply } from 'fastify';
import { SCIM_ERROR_SCHEMA } from '@app/scim';
import { mapError } from './error-mapping';
import { StoreSpace } from './store-space';
import { type AppRequest, requestState } from './request-context';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function isScimPath(url: string | undefined): boolean {
  return (url ?? '').startsWith('/api/scim/');
}

/** Renders every error: SCIM error bodies on SCIM routes, a JSON problem elsewhere. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(
    private readonly rejections: RejectionRecorder,
    private readonly space: StoreSpace,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<AppRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    this.space.noteFailure(exception);
    if (isScimPath(req.url)) await this.rejections.record(req, mapError(exception));
    sendError(exception, req, reply, this.logger);
  }
}

export function sendError(exception: unknown, req: AppRequest, reply: FastifyReply, logger: Logger): void {
  if (exception instanceof HttpException && (req.url ?? '').startsWith('/health/')) {
    // Terminus reports a failing check as a 503 whose body is the health report itself.
    void reply.status(exception.getStatus()).header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(exception.getResponse()));
    return;
  }
  const mapped = mapError(exception);
  const requestId = requestState(req).requestId;
  if (mapped.unexpected) {
    logger.error(`request ${requestId} failed: ${(exception as Error)?.stack ?? String(exception)}`);
  }
  for (const [k, v] of Object.entries(mapped.headers ?? {})) void reply.header(k, v);
  void reply.header('X-Request-Id', requestId);
  if (isScimPath(req.url)) {
    void reply
      .status(mapped.status)
      .header('Content-Type', SCIM_CONTENT_TYPE)
      .send(
        JSON.stringify({
          schemas: [SCIM_ERROR_SCHEMA],
          status: String(mapped.status),
          ...(mapped.scimType ? { scimType: mapped.scimType } : {}),
          detail: mapped.detail,
        }),
      );
    return;
  }
  void reply
    .status(mapped.status)
    .header('Content-Type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ status: mapped.status, error: mapped.reason, detail: mapped.detail, requestId }));
}
