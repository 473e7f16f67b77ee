import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import * as ts from 'typescript';
import { TestServer } from './support/test-server';

/**
 * The published OpenAPI document against the controllers themselves: every route the
 * controllers register is an operation, and every path and query parameter a handler reads is
 * declared. Query parameters are found in the handler's source (a `@Query('x')`, or `q.x` on a
 * `@Query()` object, following it one call into a private method of the controller), so a
 * parameter added to a handler without a declaration fails here.
 */
const SRC = join(__dirname, '../apps/scim-server/src');
const DIRS = ['management', 'support', 'audit'];

interface Route {
  controller: string;
  handler: string;
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
}

function controllerFiles(): string[] {
  return DIRS.flatMap((d) => readdirSync(join(SRC, d)).filter((f) => f.endsWith('.controller.ts')).map((f) => join(SRC, d, f)));
}

function decoratorName(d: ts.Decorator): string | undefined {
  const e = d.expression;
  return ts.isCallExpression(e) && ts.isIdentifier(e.expression) ? e.expression.text : undefined;
}

function firstStringArg(d: ts.Decorator): string | undefined {
  const e = d.expression;
  return ts.isCallExpression(e) && e.arguments[0] && ts.isStringLiteral(e.arguments[0]) ? e.arguments[0].text : undefined;
}

/** Names read as `<obj>.name` (or `<obj>['name']`) in `node`, following `this.m(<obj>)` one level. */
function propertiesRead(node: ts.Node, obj: string, methods: Map<string, ts.MethodDeclaration>, depth = 0): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === obj) out.push(n.name.text);
    if (ts.isElementAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === obj && ts.isStringLiteral(n.argumentExpression)) out.push(n.argumentExpression.text);
    if (depth === 0 && ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.expression.kind === ts.SyntaxKind.ThisKeyword) {
      const callee = methods.get(n.expression.name.text);
      n.arguments.forEach((a, i) => {
        const p = callee?.parameters[i];
        if (callee?.body && p && ts.isIdentifier(a) && a.text === obj && ts.isIdentifier(p.name)) out.push(...propertiesRead(callee.body, p.name.text, methods, depth + 1));
      });
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  return out;
}

/** handler name → query parameter names it reads, per controller class. */
function queryParamsInSource(): Map<string, Map<string, string[]>> {
  const byClass = new Map<string, Map<string, string[]>>();
  for (const file of controllerFiles()) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const cls of sf.statements.filter(ts.isClassDeclaration)) {
      const methods = new Map(cls.members.filter(ts.isMethodDeclaration).map((m) => [m.name.getText(sf), m] as const));
      const handlers = new Map<string, string[]>();
      for (const [name, m] of methods) {
        const names: string[] = [];
        for (const p of m.parameters) {
          const q = (ts.getDecorators(p) ?? []).find((d) => decoratorName(d) === 'Query');
          if (!q) continue;
          const literal = firstStringArg(q);
          if (literal) names.push(literal);
          else if (m.body && ts.isIdentifier(p.name)) names.push(...propertiesRead(m.body, p.name.text, methods));
        }
        handlers.set(name, [...new Set(names)].sort());
      }
      if (cls.name) byClass.set(cls.name.text, handlers);
    }
  }
  return byClass;
}

async function routeTable(): Promise<Route[]> {
  const queries = queryParamsInSource();
  const routes: Route[] = [];
  for (const file of controllerFiles()) {
    const mod = (await import(file)) as Record<string, unknown>;
    for (const cls of Object.values(mod)) {
      if (typeof cls !== 'function' || Reflect.getMetadata(PATH_METADATA, cls) === undefined || !queries.has(cls.name)) continue;
      const prefix = String(Reflect.getMetadata(PATH_METADATA, cls));
      for (const handler of Object.getOwnPropertyNames(cls.prototype)) {
        const fn = Object.getOwnPropertyDescriptor(cls.prototype, handler)?.value as unknown;
        if (typeof fn !== 'function' || Reflect.getMetadata(METHOD_METADATA, fn) === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, fn) ?? '/');
        const path = `/${[prefix, sub].join('/')}`.replace(/\/+/g, '/').replace(/\/$/, '');
        routes.push({
          controller: cls.name,
          handler,
          method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, fn) as number].toLowerCase(),
          path: path.replace(/:(\w+)/g, '{$1}'),
          pathParams: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]),
          queryParams: queries.get(cls.name)?.get(handler) ?? [],
        });
      }
    }
  }
  return routes;
}

interface Operation {
  summary?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
}

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: any;
  let routes: Route[];
  const op = (r: Route): Operation | undefined => doc.paths[r.path]?.[r.method];

  beforeAll(async () => {
    server = await TestServer.start();
    const res = await server.http('GET', '/api/docs/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
    routes = await routeTable();
  });
  afterAll(() => server.stop());

  it('finds the routes to check (the scan itself works)', () => {
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.find((r) => r.handler === 'events' && r.controller === 'AuditController')?.queryParams).toEqual(
      expect.arrayContaining(['limit', 'sortOrder', 'after', 'since', 'until', 'filter', 'q']),
    );
    expect(routes.find((r) => r.handler === 'export')?.queryParams).toEqual(expect.arrayContaining(['format', 'fromPosition', 'toPosition']));
  });

  it('has an operation with a summary for every route', () => {
    const missing = routes.filter((r) => !op(r)).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    const unsummarised = routes.filter((r) => !op(r)?.summary?.trim()).map((r) => `${r.method} ${r.path}`);
    expect(unsummarised).toEqual([]);
  });

  it('declares every path parameter and every query parameter a handler reads', () => {
    const gaps: string[] = [];
    for (const r of routes) {
      const params = op(r)?.parameters ?? [];
      for (const p of r.pathParams) if (!params.some((d) => d.in === 'path' && d.name === p && d.required)) gaps.push(`${r.method} ${r.path}: path ${p}`);
      for (const q of r.queryParams) if (!params.some((d) => d.in === 'query' && d.name === q && d.schema)) gaps.push(`${r.method} ${r.path}: query ${q}`);
    }
    expect(gaps).toEqual([]);
  });

  it('gives every operation a 2xx response with a schema (204: no body)', () => {
    const gaps: string[] = [];
    for (const r of routes) {
      const responses = op(r)?.responses ?? {};
      const ok = Object.entries(responses).filter(([code]) => /^2\d\d$/.test(code));
      if (ok.length === 0) gaps.push(`${r.method} ${r.path}: no 2xx`);
      for (const [code, res] of ok) {
        if (code === '204') continue;
        const schemas = Object.values(res.content ?? {}).map((c) => c.schema);
        if (schemas.length === 0 || schemas.some((s) => !s || Object.keys(s).length === 0)) gaps.push(`${r.method} ${r.path}: ${code} without a schema`);
      }
    }
    expect(gaps).toEqual([]);
  });

  it('describes the error shape and the errors each operation can answer', () => {
    const error = doc.components?.schemas?.ErrorResponse;
    expect(error?.required).toEqual(expect.arrayContaining(['status', 'error', 'detail', 'requestId']));
    const gaps: string[] = [];
    for (const r of routes) {
      const responses = op(r)?.responses ?? {};
      const expected = ['401', '403', ...(r.pathParams.length ? ['404'] : []), ...(r.queryParams.length || op(r)?.requestBody ? ['400'] : [])];
      for (const code of expected) {
        const schema = responses[code]?.content?.['application/json']?.schema as { $ref?: string } | undefined;
        if (schema?.$ref !== '#/components/schemas/ErrorResponse') gaps.push(`${r.method} ${r.path}: ${code}`);
      }
    }
    expect(gaps).toEqual([]);
  });

  it('describes the bearer scheme truthfully: an opaque token, not a JWT', () => {
    const schemes = Object.values(doc.components?.securitySchemes ?? {}) as { type: string; scheme?: string; bearerFormat?: string; description?: string }[];
    expect(schemes).toHaveLength(1);
    expect(schemes[0]).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes[0].bearerFormat).toBeUndefined();
    expect(schemes[0].description).toMatch(/opaque/i);
    for (const r of routes) expect(op(r)?.security).toBeDefined();
  });
});
