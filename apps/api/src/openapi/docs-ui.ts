import { dirname } from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { RouteTable } from '../route-table';

export const DOCS_PATH = '/docs';
export const DOCUMENT_PATH = '/api/openapi.json';
const ASSETS = `${DOCS_PATH}/assets`;

/**
 * Swagger UI's start-up, as a script file of its own: the page's content security policy allows scripts from
 * this origin only, so nothing runs inline. The document's server is relative, so "Try it out" calls the
 * service that served the page; the Bearer key given under "Authorize" is kept across reloads.
 */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(DOCUMENT_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Job service API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="${ASSETS}/favicon-32x32.png">
</head>
<body>
<noscript><p>The machine-readable document: <a href="${DOCUMENT_PATH}">${DOCUMENT_PATH}</a> (OpenAPI 3.1).</p></noscript>
<div id="swagger-ui"></div>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

/**
 * The policy of the docs pages: scripts, styles, images and API calls from this origin only. Styles may be
 * inline because Swagger UI sets style attributes on the elements it renders.
 */
const docsPolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  },
});

/** `/docs`: Swagger UI from the swagger-ui-dist package (no CDN), reading the document at `/api/openapi.json`. */
export function docsRoutes(table: RouteTable): Router {
  const r = Router();
  r.use(DOCS_PATH, docsPolicy);
  table.add(r, 'get', DOCS_PATH, (_req: Request, res: Response) => {
    res.type('html').send(PAGE);
  });
  table.add(r, 'get', `${DOCS_PATH}/init.js`, (_req: Request, res: Response) => {
    res.type('application/javascript').send(INIT_SCRIPT);
  });
  r.use(
    ASSETS,
    express.static(dirname(require.resolve('swagger-ui-dist/package.json')), {
      index: false,
      fallthrough: true,
      maxAge: '1h',
    }),
  );
  return r;
}
