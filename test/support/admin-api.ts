import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { discoverRp } from './rp.js';
import type { TestServer } from './server.js';

export interface Operation {
  responses: Record<string, { content?: { 'application/json'?: { schema?: object } } }>;
}
export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * Calls the admin API and checks every answer against the served OpenAPI document: the
 * status must be documented for the operation and the body must validate against its schema.
 */
export class AdminApi {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
  private readonly validators = new Map<string, ValidateFunction>();
  readonly succeeded = new Set<string>();
  tokens: { write: string; read: string } = { write: '', read: '' };

  constructor(
    readonly base: string,
    readonly doc: { paths: Record<string, Record<string, Operation>> },
  ) {}

  private operation(method: string, path: string): [string, Operation] {
    for (const [template, ops] of Object.entries(this.doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      const op = ops[method];
      if (pattern.test(path) && op) return [`${method.toUpperCase()} ${template}`, op];
    }
    throw new Error(`${method} ${path} is not in the OpenAPI document`);
  }

  async call(method: string, path: string, opts: { token?: string | null; body?: unknown; raw?: string; type?: string } = {}): Promise<Reply> {
    const token = opts.token === undefined ? this.tokens.write : opts.token;
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (payload !== undefined) headers['content-type'] = opts.type ?? 'application/json';
    const res = await fetch(`${this.base}${path}`, { method: method.toUpperCase(), headers, body: payload });
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    const [name, op] = this.operation(method, path.split('?')[0]!);
    const documented = op.responses[String(res.status)];
    assert.ok(documented, `${name} answered ${res.status}, which the document does not list: ${text}`);
    const schema = documented.content?.['application/json']?.schema;
    if (schema) {
      const key = `${name} ${res.status}`;
      let validate = this.validators.get(key);
      if (!validate) this.validators.set(key, (validate = this.ajv.compile(schema)));
      assert.ok(validate(body), `${key}: ${this.ajv.errorsText(validate.errors)} in ${text}`);
    } else {
      assert.equal(body, undefined, `${name} ${res.status} has no documented body`);
    }
    if (res.status < 300) this.succeeded.add(name);
    return { status: res.status, body, headers: res.headers };
  }
}

export async function adminToken(issuer: string, clientId: string, secret: string, scope: string): Promise<string> {
  const rp = await discoverRp(issuer, clientId, { secret });
  const tokens = await oidc.clientCredentialsGrant(rp.config, { resource: `${issuer}/admin/v1`, scope });
  return tokens.access_token;
}

// Each process caches client metadata for a second (src/oidc/adapter.ts).
export const clientCacheExpiry = () => new Promise((resolve) => setTimeout(resolve, 1100));

export function assertError(reply: Reply, status: number, error: string, description?: RegExp) {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.equal(reply.body.error, error);
  if (description) assert.match(reply.body.error_description, description);
}


/** Registers an admin client (read and write) and a read-only one, and an AdminApi holding their tokens. */
export async function connectAdminApi(server: TestServer): Promise<{ api: AdminApi; adminClientId: string; adminSecret: string }> {
  const { clients } = server.services;
  const admin = await clients.create({ name: 'Admin', grantTypes: ['client_credentials'], scope: 'admin:read admin:write' });
  const reader = await clients.create({ name: 'Auditor', grantTypes: ['client_credentials'], scope: 'admin:read' });
  const doc = await (await fetch(`${server.issuer}/admin/v1/openapi.json`)).json();
  const api = new AdminApi(`${server.issuer}/admin/v1`, doc as AdminApi['doc']);
  api.tokens = {
    write: await adminToken(server.issuer, admin.client.clientId, admin.secret!, 'admin:read admin:write'),
    read: await adminToken(server.issuer, reader.client.clientId, reader.secret!, 'admin:read'),
  };
  return { api, adminClientId: admin.client.clientId, adminSecret: admin.secret! };
}

/** An admin token exactly as the server would issue it, signed with its own key, but expired a minute ago. */
export async function expiredAdminToken(server: TestServer, clientId: string): Promise<string> {
  const own = (await server.services.keys.loadPrivateJwks()).find((k) => (k as { alg?: string }).alg === 'ES256') as jose.JWK & { kid: string };
  return new jose.SignJWT({ client_id: clientId, sub: clientId, scope: 'admin:read admin:write' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: own.kid })
    .setIssuer(server.issuer)
    .setAudience(`${server.issuer}/admin/v1`)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(await jose.importJWK(own, 'ES256'));
}
