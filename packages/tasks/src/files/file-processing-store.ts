import type { FileStatus } from '@jobs/core';

export interface ProcessingFile {
  id: string;
  mime_type: string;
  status: FileStatus;
  error_message: string | null;
}

/** The slice of the files tables the `file.process` task needs (implemented by FileStore in @jobs/db). */
export interface FileProcessingStore {
  findFile(id: string): Promise<ProcessingFile | null>;
  content(id: string): Promise<Buffer>;
  startParsing(id: string): Promise<ProcessingFile | null>;
  startEmbedding(id: string, totalChunks: number): Promise<boolean>;
  storeChunks(id: string, chunks: readonly { index: number; text: string; tokenCount: number; embedding: Float32Array }[]): Promise<boolean>;
  transition(id: string, to: FileStatus, opts?: { errorMessage?: string }): Promise<ProcessingFile | null>;
}
