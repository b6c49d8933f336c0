import { z } from 'zod';
import { ADMIN_READ, ADMIN_WRITE } from './resource.js';
import type { AdminRoute } from './route.js';
import { errorBody } from './schemas.js';

const schemaOf = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
};

const jsonContent = (schema: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: schemaOf(schema, io) } });
const errorResponse = (description: string) => ({ description, content: jsonContent(errorBody, 'output') });

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = schemaOf(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

/** The OpenAPI 3.1 document for the admin routes, generated from the same schemas that validate requests. */
export function openApiDocument(routes: AdminRoute[], issuer: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const validated = Boolean(r.params ?? r.query ?? r.body);
    const errors: Record<string, unknown> = {
      ...(validated || r.errors?.[400] ? { 400: errorResponse(r.errors?.[400] ?? 'invalid input; error_description names the field') } : {}),
      401: errorResponse('no, invalid or expired access token (WWW-Authenticate: Bearer)'),
      403: errorResponse(`the token lacks the ${r.scope} scope (insufficient_scope)`),
      ...(r.path.includes('{') ? { 404: errorResponse('no such resource') } : {}),
      ...Object.fromEntries(Object.entries(r.errors ?? {}).filter(([status]) => status !== '400').map(([status, text]) => [status, errorResponse(text)])),
      ...(r.body ? { 413: errorResponse('body too large'), 415: errorResponse('body is not application/json') } : {}),
    };
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      security: [{ bearer: [r.scope] }],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: jsonContent(r.body, 'input') } } : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries(r.responses).map(([status, res]) => [status, { description: res.description, ...(res.schema ? { content: jsonContent(res.schema, 'output') } : {}) }]),
        ),
        ...errors,
      },
    };
  }
  paths['/openapi.json'] = {
    get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1 document', content: { 'application/json': {} } } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera admin API',
      version: '1',
      description: `Bearer access tokens from the client credentials grant with resource=${issuer}/admin/v1 (JWT, RFC 9068).`,
    },
    servers: [{ url: `${issuer}/admin/v1` }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: `${issuer}/token`,
              scopes: { [ADMIN_READ]: 'read users, clients, initial access tokens, flows, enrollments, audit events and keys', [ADMIN_WRITE]: 'change them' },
            },
          },
        },
      },
    },
    paths,
  };
}
