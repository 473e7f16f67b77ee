import 'reflect-metadata';
import { Logger, type LogLevel, ValidationPipe, BadRequestException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '@app/config';
import { InvalidCommand } from '@app/identity';
import { AppModule } from './app.module';
import { isScimPath, SCIM_CONTENT_TYPE, sendError } from './infrastructure/all-exceptions.filter';
import { LifecycleService } from './infrastructure/lifecycle.service';
import { requestState, type AppRequest } from './infrastructure/request-context';

const LEVELS: Record<AppConfig['logLevel'], LogLevel[] | false> = {
  silent: false,
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

export interface StartedServer {
  readonly app: NestFastifyApplication;
  readonly url: string;
  /** Only on the first start without ADMIN_TOKEN: shown once, stored as a hash. */
  readonly generatedAdminToken?: string;
}

export async function createServer(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.maxPayloadBytes,
    ignoreTrailingSlash: true,
    // Every body is JSON; prototype-poisoning keys are refused, not silently dropped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    maxParamLength: 1024,
    trustProxy: false,
  });
  const fastify = adapter.getInstance();
  // SCIM clients send application/scim+json (with or without charset); parse it as JSON.
  fastify.addContentTypeParser(
    /^application\/scim\+json/i,
    { parseAs: 'string', bodyLimit: config.maxPayloadBytes },
    fastify.getDefaultJsonParser('error', 'error'),
  );
  fastify.addHook('onRequest', async (req, reply) => {
    const state = requestState(req as AppRequest);
    void reply.header('X-Request-Id', state.requestId);
    void reply.header('X-Content-Type-Options', 'nosniff');
    void reply.header('Cache-Control', 'no-store');
    void reply.header('Referrer-Policy', 'no-referrer');
    void reply.header('X-Frame-Options', 'DENY');
  });
  fastify.addHook('onSend', async (req, reply, payload) => {
    // SCIM responses are application/scim+json (RFC 7644 §8.1), whatever the handler returned.
    if (isScimPath(req.url) && String(reply.getHeader('content-type') ?? '').startsWith('application/json')) {
      void reply.header('Content-Type', SCIM_CONTENT_TYPE);
    }
    return payload;
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: LEVELS[config.logLevel],
    bodyParser: true,
  });
  // Errors raised before Nest's pipeline (malformed JSON, body too large, bad media type).
  const logger = new Logger('http');
  fastify.setErrorHandler((error, req, reply) => sendError(error, req as AppRequest, reply, logger));
  fastify.setNotFoundHandler((req, reply) => sendError(new NotFoundRoute(), req as AppRequest, reply, logger));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: false,
      exceptionFactory: (errors) => {
        const first = errors[0];
        return first ? new InvalidCommand(Object.values(first.constraints ?? {})[0] ?? `${first.property} is invalid`, first.property) : new BadRequestException();
      },
    }),
  );
  app.enableShutdownHooks();
  return app;
}

class NotFoundRoute extends Error {
  readonly statusCode = 404;
  readonly code = 'FST_ERR_NOT_FOUND';
}

export async function startServer(config: AppConfig): Promise<StartedServer> {
  const app = await createServer(config);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  return { app, url, generatedAdminToken: app.get(LifecycleService).generatedAdminToken };
}
