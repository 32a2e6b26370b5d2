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
  /** The writes of one job attempt, fenced on it (an older attempt's late writes lose). */
  startParsing(id: string, attempt: number): Promise<ProcessingFile | null>;
  startEmbedding(id: string, attempt: number, totalChunks: number): Promise<boolean>;
  storeChunks(id: string, attempt: number, chunks: readonly { index: number; text: string; tokenCount: number; embedding: Float32Array }[]): Promise<boolean>;
  complete(id: string, attempt: number): Promise<boolean>;
}
