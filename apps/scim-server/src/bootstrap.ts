import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import rateLimit from '@fastify/rate-limit';
import { BadRequestException, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AuthService } from '@app/auth';
import type { AppConfig } from '@app/config';
import { InvalidCommand } from '@app/identity';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { Metrics } from './metrics/metrics';
import { isScimPath, SCIM_CONTENT_TYPE } from './infrastructure/all-exceptions.filter';
import { rateLimitKey } from './infrastructure/authenticate-request';
import { LifecycleService } from './infrastructure/lifecycle.service';
import { AUTH_SERVICE } from './infrastructure/tokens';
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
    // Fastify's own pino writes the JSON request logs; nestjs-pino routes Nest's logs through
    // the same logger (useExisting), so every line carries the request id.
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
            serializers: {
              // Paths only: query strings carry filters with personal data (userName eq "…").
              req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: req.url.split('?')[0], id: req.id }),
            },
          },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: config.maxPayloadBytes,
    // On shutdown, close keep-alive connections that are idle; requests in flight finish.
    forceCloseConnections: 'idle',
    // Node's default: an idle keep-alive client cannot hold a shutdown open for long.
    keepAliveTimeout: 5000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    // Every body is JSON; prototype-poisoning keys are refused, not silently dropped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: false,
  });
  const fastify = adapter.getInstance();
  // SCIM clients send application/scim+json (with or without charset); parse it as JSON.
  // An empty body with a JSON content type (common on DELETE) is no body, not an error.
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    /^application\/(scim\+)?json/i,
    { parseAs: 'string', bodyLimit: config.maxPayloadBytes },
    (req, body, done) => ((body as string).length === 0 ? done(null, undefined) : json(req, body as string, done)),
  );
  // Callback-style hooks: an async hook costs every request a promise and a tick.
  fastify.addHook('onRequest', (req, reply, done) => {
    const state = requestState(req as AppRequest);
    void reply.headers({
      'X-Request-Id': state.requestId,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
    done();
  });
  fastify.addHook('onSend', (req, reply, payload, done) => {
    // SCIM responses are application/scim+json (RFC 7644 §8.1), whatever the handler returned.
    if (isScimPath(req.url) && String(reply.getHeader('content-type') ?? '').startsWith('application/json')) {
      void reply.header('Content-Type', SCIM_CONTENT_TYPE);
    }
    done(null, payload);
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: LEVELS[config.logLevel],
    bufferLogs: config.logLevel !== 'silent',
    // Our own JSON parser (above) accepts application/scim+json and empty bodies.
    bodyParser: false,
  });
  if (config.logLevel !== 'silent') app.useLogger(app.get(PinoNestLogger));
  const metrics = app.get(Metrics);
  fastify.addHook('onResponse', (req, reply, done) => {
    // The route pattern, not the URL: ids would explode the label space.
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.requests.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  // Per authenticated token (its id: every spelling of one secret shares a bucket), else per
  // client address (no token, or one that does not authenticate). Runs before the body is
  // read, so a flood costs as little as possible. Bulk operations go through this hook too
  // (the Bulk endpoint injects each one), so a Bulk request counts once plus once per operation.
  const auth = app.get<AuthService>(AUTH_SERVICE);
  await app.register(rateLimit, {
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    keyGenerator: (req) => rateLimitKey(req as AppRequest, auth),
    allowList: (req) => (req.url ?? '').startsWith('/health/'),
    errorResponseBuilder: (_req, context) =>
      Object.assign(new Error('Too many requests'), { statusCode: 429, code: 'FST_ERR_RATE_LIMITED', retryAfter: context.after }),
  });
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
  // The support and audit console: static files, next to the sources (and so next to dist).
  const consoleRoot = [join(__dirname, '..', 'console'), join(__dirname, '..', '..', '..', '..', 'apps', 'scim-server', 'console')].find((d) =>
    existsSync(join(d, 'index.html')),
  );
  if (consoleRoot) {
    await app.register(fastifyStatic, { root: consoleRoot, prefix: '/console/', decorateReply: false, index: false });
    // With trailing slashes ignored, `/console/` is `/console`: answer it with the page.
    const page = readFileSync(join(consoleRoot, 'index.html'));
    fastify.get('/console', (_req, reply) => void reply.type('text/html; charset=utf-8').send(page));
  }
  const openApi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('SCIM provisioning backend: management API')
      .setDescription('Groups, SAML group links, SCIM and management tokens, identities, audit. The SCIM 2.0 API itself is described by its own discovery endpoints.')
      .addBearerAuth()
      .build(),
    { include: [] },
  );
  // Only the management routes: SCIM clients discover the SCIM API through /Schemas.
  openApi.paths = Object.fromEntries(Object.entries(openApi.paths).filter(([path]) => path.startsWith('/api/v1/')));
  SwaggerModule.setup('api/docs', app, openApi, { jsonDocumentUrl: 'api/docs/openapi.json' });
  app.enableShutdownHooks();
  return app;
}

export async function startServer(config: AppConfig): Promise<StartedServer> {
  const app = await createServer(config);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  return { app, url, generatedAdminToken: app.get(LifecycleService).generatedAdminToken };
}
