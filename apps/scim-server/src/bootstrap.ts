import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { symbols as pinoSymbols } from 'pino';
import rateLimit from '@fastify/rate-limit';
import { BadRequestException, type LoggerService, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AuthService } from '@app/auth';
import type { AppConfig } from '@app/config';
import { InvalidCommand } from '@app/identity';
import { ScimError } from '@app/scim';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { Metrics } from './metrics/metrics';
import { isScimPath, SCIM_CONTENT_TYPE } from './infrastructure/all-exceptions.filter';
import { MAX_JSON_DEPTH, jsonNestedDeeperThan } from './infrastructure/json-depth';
import { rateLimitKey } from './infrastructure/authenticate-request';
import { LifecycleService } from './infrastructure/lifecycle.service';
import { RequestShapePipe } from './infrastructure/request-shape.pipe';
import { AUTH_SERVICE } from './infrastructure/tokens';
import { requestState, type AppRequest } from './infrastructure/request-context';
import { canonicalScimUrl } from './scim/scim-paths';

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
  /** ADMIN_TOKEN is unset and an earlier start generated the admin token: nothing to show now. */
  readonly adminTokenStoredEarlier: boolean;
}

export interface StartOptions {
  /** An admin token generated after start-up (a remote event store that came up late). */
  readonly onGeneratedAdminToken?: (secret: string) => void;
}

/** Nest's start-up chatter (a line per module and per route) at debug, so the start-up banner stays visible. */
const CHATTY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

function quietStartup(logger: LoggerService): LoggerService {
  const demote = (message: unknown, rest: unknown[]) => {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && CHATTY_CONTEXTS.has(context)) logger.debug?.(message, ...rest);
    else logger.log(message, ...rest);
  };
  return {
    log: (message: unknown, ...rest: unknown[]) => demote(message, rest),
    error: (message: unknown, ...rest: unknown[]) => logger.error(message, ...rest),
    warn: (message: unknown, ...rest: unknown[]) => logger.warn(message, ...rest),
    debug: (message: unknown, ...rest: unknown[]) => logger.debug?.(message, ...rest),
    verbose: (message: unknown, ...rest: unknown[]) => logger.verbose?.(message, ...rest),
    fatal: (message: unknown, ...rest: unknown[]) => logger.fatal?.(message, ...rest),
  };
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
    rewriteUrl: (req: { url?: string }) => canonicalScimUrl(req.url ?? '/'),
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
    (req, body, done) => {
      const text = body as string;
      if (text.length === 0) return done(null, undefined);
      if (jsonNestedDeeperThan(text, MAX_JSON_DEPTH)) {
        return done(ScimError.invalidSyntax(`The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels (the limit is ${MAX_JSON_DEPTH})`), undefined);
      }
      return json(req, text, done);
    },
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
  if (config.logLevel !== 'silent') app.useLogger(quietStartup(app.get(PinoNestLogger)));
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
    new RequestShapePipe(),
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
    // With trailing slashes ignored, `/console/` is `/console`: the page for the first, a redirect
    // for the second (the page's relative links and a browser's idea of "here" need the slash).
    const page = readFileSync(join(consoleRoot, 'index.html'));
    fastify.get('/console', (req, reply) =>
      req.url.split('?')[0]!.endsWith('/') ? void reply.type('text/html; charset=utf-8').send(page) : void reply.redirect('/console/', 301),
    );
  }
  const openApi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('SCIM provisioning backend: management API')
      .setDescription('Groups, SAML group links, SCIM and management tokens, identities, audit. The SCIM 2.0 API itself is described by its own discovery endpoints.')
      // addSecurity, not addBearerAuth: the latter always adds bearerFormat JWT, and these tokens are opaque.
      .addSecurity('bearer', {
        type: 'http',
        scheme: 'bearer',
        description: 'An opaque management token (not a JWT): the ADMIN_TOKEN, or a token from POST /api/v1/tokens. Sent as `Authorization: Bearer <token>`.',
      })
      .build(),
    { include: [] },
  );
  // Only the management routes: SCIM clients discover the SCIM API through /Schemas.
  openApi.paths = Object.fromEntries(Object.entries(openApi.paths).filter(([path]) => path.startsWith('/api/v1/')));
  SwaggerModule.setup('api/docs', app, openApi, { jsonDocumentUrl: 'api/docs/openapi.json' });
  app.enableShutdownHooks();
  return app;
}

export async function startServer(config: AppConfig, options: StartOptions = {}): Promise<StartedServer> {
  const app = await createServer(config);
  try {
    await app.listen(config.port, config.host);
  } catch (err) {
    // Port in use or not allowed: close the store cleanly; nothing was generated or stored.
    await app.close().catch(() => undefined);
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const lifecycle = app.get(LifecycleService);
  const generatedAdminToken = await lifecycle.listeningStarted(options.onGeneratedAdminToken);
  if (config.logLevel !== 'silent') {
    await Promise.all([drained(app.getHttpAdapter().getInstance().log), drained((await app.resolve(PinoLogger)).logger)]);
  }
  return { app, url, adminTokenStoredEarlier: lifecycle.hasStoredBootstrapAdmin(), ...(generatedAdminToken ? { generatedAdminToken } : {}) };
}

/**
 * Waits (at most a second) until a pino logger's asynchronous destination has written what it
 * holds, so a start-up banner printed next is the last thing on the screen. pino's own
 * `flush(cb)` calls back at once when the destination does not batch, so this reads the
 * sonic-boom destination's state instead.
 */
async function drained(logger: unknown): Promise<void> {
  const stream = (logger as Record<symbol, unknown> | undefined)?.[pinoSymbols.streamSym] as { _writing?: boolean; _len?: number } | undefined;
  const deadline = Date.now() + 1000;
  while (stream && (stream._writing || (stream._len ?? 0) > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
