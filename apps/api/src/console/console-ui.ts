import fs from 'node:fs';
import path from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import helmet from 'helmet';

export const CONSOLE_PATH = '/console';

/**
 * Where `npm run build` leaves the console's assets (apps/console, built by Vite). Read from disk, not
 * imported: the API ships them as files and an app never imports another app.
 */
export const CONSOLE_DIST = path.resolve(__dirname, '..', '..', '..', 'console', 'dist');

/**
 * The console's policy: everything from this origin only, nothing inline (the build emits script and style
 * files; React sets styles through the DOM, which a policy does not govern), no framing.
 */
const consolePolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  },
});

/**
 * `/console`: the jobs console, a single-page app. Its hashed assets are cached; every other path under
 * `/console` answers the app's page, whose own router picks the view (so a reload or a shared link works).
 */
export function consoleRoutes(dist = CONSOLE_DIST): Router {
  const r = Router();
  r.use(CONSOLE_PATH, consolePolicy);
  r.use(
    `${CONSOLE_PATH}/assets`,
    express.static(path.join(dist, 'assets'), { index: false, fallthrough: false, immutable: true, maxAge: '1y' }),
  );
  const page = (_req: Request, res: Response) => {
    const file = path.join(dist, 'index.html');
    if (!fs.existsSync(file)) {
      res
        .status(404)
        .type('application/problem+json')
        .json({
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          detail: 'The console is not built: run npm run build.',
        });
      return;
    }
    res.set('cache-control', 'no-cache').sendFile(file);
  };
  r.get(CONSOLE_PATH, page);
  r.get(`${CONSOLE_PATH}/{*view}`, page);
  return r;
}
