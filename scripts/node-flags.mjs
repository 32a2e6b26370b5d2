/**
 * V8 flags the API and worker processes run with (npm start, the bench; package.json's start:api and
 * start:worker and the Dockerfiles spell the same). A 64 MB young generation lets the many short-lived
 * objects of each request and job die young instead of being copied: garbage collection was ~12 % of
 * the API's busy time with the default, and bench scenario 1 gained ~15 % end to end with this.
 * It costs up to ~190 MB more resident memory per process at full load.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=64'];
