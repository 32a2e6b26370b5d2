import type { FileStatus } from '@jobs/core';

export interface ProcessingFile {
  id: string;
  mime_type: string;
  status: FileStatus;
  error_message: string | null;
}

/** The slice of the files tables the `file.process` task needs (implemented by FileStore in @jobs/db). */
export interface FileProcessingStore {
  /** The file if it belongs to `organizationId` (another organization's file is not found). */
  findFile(id: string, organizationId: string): Promise<ProcessingFile | null>;
  content(id: string): Promise<Buffer>;
  /**
   * The writes of one job attempt, fenced on it (an older attempt's late writes lose). startParsing claims only a
   * file of `organizationId`; the writes after it are fenced on the attempt that claimed it.
   */
  startParsing(id: string, organizationId: string, attempt: number): Promise<ProcessingFile | null>;
  startEmbedding(id: string, attempt: number, totalChunks: number): Promise<boolean>;
  storeChunks(id: string, attempt: number, chunks: readonly { index: number; text: string; tokenCount: number; embedding: Float32Array }[]): Promise<boolean>;
  complete(id: string, attempt: number): Promise<boolean>;
}
