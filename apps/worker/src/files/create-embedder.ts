import type { Settings } from '@jobs/core';
import { HashingEmbedder, HttpEmbedder, type Embedder, type FilePipeline } from '@jobs/tasks';

/** The OpenAI-compatible client when EMBEDDINGS_URL is set, else the local hashing embedder (SPEC F10). */
export function createEmbedder(settings: Settings, pipeline: FilePipeline): Embedder {
  if (!settings.EMBEDDINGS_URL) return new HashingEmbedder(pipeline, settings.EMBEDDING_DIMS);
  return new HttpEmbedder({
    url: settings.EMBEDDINGS_URL,
    model: settings.EMBEDDINGS_MODEL,
    ...(settings.EMBEDDINGS_API_KEY ? { apiKey: settings.EMBEDDINGS_API_KEY } : {}),
    batchSize: settings.EMBEDDINGS_BATCH_SIZE,
    maxAttempts: settings.EMBEDDINGS_MAX_ATTEMPTS,
    backoffMs: settings.EMBEDDINGS_BACKOFF_MS,
  });
}
