import { z } from 'zod';
import { FILE_STATUSES } from '../file-status';
import { idOf, timestamp } from './common';

export const UPLOAD_MIME_TYPES = [
  'text/plain',
  'text/markdown',
  'application/json',
  'text/csv',
  'text/html',
  'application/pdf',
] as const;

export const SourceSchema = z
  .strictObject({ id: idOf('source'), name: z.string(), created_at: timestamp })
  .meta({ id: 'Source' });

export const FileSchema = z
  .strictObject({
    id: idOf('file'),
    source_id: idOf('source'),
    name: z.string(),
    mime_type: z.enum(UPLOAD_MIME_TYPES),
    size_bytes: z.number().int().min(0),
    status: z.enum(FILE_STATUSES),
    error_message: z.string().nullable(),
    total_chunks: z.number().int().min(0).nullable(),
    chunks_embedded: z.number().int().min(0),
    job_id: idOf('job').nullable().meta({ description: 'The processing Job' }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'File' });

export const ChunkSchema = z
  .strictObject({ index: z.number().int().min(0), text: z.string(), embedding_dims: z.number().int().min(0) })
  .meta({ id: 'Chunk' });
