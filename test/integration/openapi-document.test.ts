import { validate } from '@readme/openapi-parser';
import { createApp } from '../../apps/api/src/app';
import { OPERATIONS, UNDOCUMENTED_PREFIXES, UNDOCUMENTED_ROUTES } from '../../apps/api/src/openapi/operations';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';

interface Layer {
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** Every (method, path) the Express app routes, nested routers included, with Express's `:param` written `{param}`. */
function servedRoutes(stack: Layer[], prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all')
          out.push(`${method} ${prefix}${layer.route.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`);
      }
    } else if (layer.handle.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      out.push(...servedRoutes(layer.handle.stack, prefix + mount));
    }
  }
  return out;
}

describe('the OpenAPI document', () => {
  let stack: TestStack;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    servers: { url: string }[];
  };
  beforeAll(async () => {
    stack = await startStack();
    doc = expectStatus(await stack.request('GET', '/api/openapi.json', undefined, null), 200);
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('documents every route the app serves, and nothing it does not serve', async () => {
    const { app, close } = createApp(stack.api.deps);
    try {
      const router = (app as unknown as { router: { stack: Layer[] } }).router;
      const served = new Set(
        servedRoutes(router.stack).filter((r) => !UNDOCUMENTED_PREFIXES.some((p) => r.split(' ')[1]!.startsWith(p))),
      );
      for (const r of UNDOCUMENTED_ROUTES)
        expect([`${r.method} ${r.path}`, served.delete(`${r.method} ${r.path}`)]).toEqual([
          `${r.method} ${r.path}`,
          true,
        ]);
      const documented = new Set(
        Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
      );
      expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
      expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
      expect(documented.size).toBe(OPERATIONS.length);
    } finally {
      await close();
    }
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result).toEqual({ valid: true, warnings: [], specification: 'OpenAPI' });
    // The validator does check 3.1 documents: the same one with a response lacking its description fails.
    const broken = structuredClone(doc);
    delete (broken.paths['/api/jobs']!['get']!.responses['200'] as { description?: string }).description;
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('has a relative server, so that "try it out" calls the service that served it', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('needs no key for health, liveness and the document only, and names the problem statuses of each route', () => {
    const open = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security?.length === 0)
        .map(([m]) => `${m} ${path}`),
    );
    expect(open.sort()).toEqual(['get /api/health', 'get /api/health/live', 'get /api/openapi.json']);
    expect(Object.keys(doc.paths['/api/jobs']!['post']!.responses)).toEqual([
      '200',
      '201',
      '202',
      '400',
      '401',
      '409',
      '413',
      '415',
      '429',
      '503',
    ]);
    expect(Object.keys(doc.paths['/api/admin/organizations']!['post']!.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403']),
    );
    expect(Object.keys(doc.paths['/api/sources/{id}/upload']!['post']!.responses)).toEqual(
      expect.arrayContaining(['202', '400', '404', '413', '415']),
    );
    expect(Object.keys(doc.paths['/api/jobs/{id}/events']!['get']!.responses['200'] as object)).toContain('content');
    expect(
      Object.keys((doc.paths['/api/jobs/{id}/events']!['get']!.responses['200'] as { content: object }).content),
    ).toEqual(['application/json', 'text/event-stream']);
  });

  it('documents the bulk create, the callback attempt log and the bulk redelivery with their schemas', () => {
    const schemas = (doc as unknown as { components: { schemas: Record<string, { properties?: object }> } }).components
      .schemas;
    expect(schemas['CreateJobsInBulkBody']!.properties).toEqual({
      jobs: { type: 'array', minItems: 1, maxItems: 1000, items: { $ref: '#/components/schemas/CreateJobBody' } },
    });
    expect(Object.keys(schemas['CallbackAttempt']!.properties!).sort()).toEqual(
      ['at', 'attempt', 'duration_ms', 'error', 'response_excerpt', 'status_code', 'webhook_id'].sort(),
    );
    expect(Object.keys(doc.paths['/api/jobs/bulk']!['post']!.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '409', '413', '429']),
    );
    expect(Object.keys(doc.paths['/api/jobs/{id}/callback/attempts']!['get']!.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404']),
    );
    expect(Object.keys(doc.paths['/api/admin/callbacks/redeliver']!['post']!.responses)).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '404']),
    );
  });
});

describe('/docs', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('serves Swagger UI from this origin only, every asset it references answering 200', async () => {
    const res = await fetch(`${stack.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    for (const ref of refs) {
      expect(ref).toMatch(/^\/(docs\/|api\/openapi\.json$)/);
      const asset = await fetch(`${stack.url}${ref}`);
      expect([ref, asset.status]).toEqual([ref, 200]);
      await asset.arrayBuffer();
    }
    // No inline script: every <script> loads a file.
    expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    const init = await (await fetch(`${stack.url}/docs/init.js`)).text();
    expect(init).toContain('/api/openapi.json');
    expect(init).toContain('persistAuthorization: true');
  });

  it('sends a content security policy that runs its own scripts and nothing else', async () => {
    const res = await fetch(`${stack.url}/docs`);
    const csp = Object.fromEntries(
      res.headers
        .get('content-security-policy')!
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['default-src']).toEqual(["'self'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    const asset = await fetch(`${stack.url}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.headers.get('content-type')).toContain('javascript');
    await asset.arrayBuffer();
    // The API itself keeps no policy of its own: it serves JSON.
    const api = await fetch(`${stack.url}/api/health/live`);
    expect(api.headers.get('content-security-policy')).toBeNull();
  });
});
