import type { Actor } from '@jobs/core';

declare global {
  namespace Express {
    interface Request {
      requestId: string;
      actor?: Actor;
    }
  }
}

export {};
