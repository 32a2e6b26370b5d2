import type { FileStatus } from '@jobs/core';
import type { FileRow, SourceRow } from '@jobs/db';

/** A source of the REST contract. */
export interface ApiSource {
  id: string;
  name: string;
  created_at: string;
}

/** A file of the REST contract (its content and chunks stay in the database). */
export interface ApiFile {
  id: string;
  source_id: string;
  name: string;
  mime_type: string;
  size_bytes: number;
  status: FileStatus;
  error_message: string | null;
  total_chunks: number | null;
  chunks_embedded: number;
  job_id: string | null;
  created_at: string;
  updated_at: string;
}

export function toApiSource(s: SourceRow): ApiSource {
  return { id: s.id, name: s.name, created_at: s.created_at.toISOString() };
}

export function toApiFile(f: FileRow): ApiFile {
  return {
    id: f.id,
    source_id: f.source_id,
    name: f.name,
    mime_type: f.mime_type,
    size_bytes: Number(f.size_bytes),
    status: f.status,
    error_message: f.error_message,
    total_chunks: f.total_chunks,
    chunks_embedded: f.chunks_embedded,
    job_id: f.job_id,
    created_at: f.created_at.toISOString(),
    updated_at: f.updated_at.toISOString(),
  };
}
