-- File processing (SPEC F10): sources, their uploaded files and the files' embedded chunks.
CREATE TABLE "sources" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sources_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "sources_organization_id_created_at_idx" ON "sources"("organization_id", "created_at");
ALTER TABLE "sources" ADD CONSTRAINT "sources_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- `content` holds the upload unless FILE_STORAGE_DIR is set, then `storage_path` names it there.
-- `processing_attempt` is the job attempt that owns the pipeline: an older attempt's late writes are fenced off.
CREATE TABLE "files" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "mime_type" TEXT NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "error_message" TEXT,
    "total_chunks" INTEGER,
    "chunks_embedded" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "processing_attempt" INTEGER,
    "content" BYTEA,
    "storage_path" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "files_pkey" PRIMARY KEY ("id")
);
-- Uncompressed out-of-line storage: the worker reads an upload in slices, and substring() then reads only
-- the slice's pages (a compressed value would be decompressed whole for every slice).
ALTER TABLE "files" ALTER COLUMN "content" SET STORAGE EXTERNAL;
CREATE INDEX "files_source_id_created_at_id_idx" ON "files"("source_id", "created_at", "id");
-- The timeout sweep reads the non-terminal files by age.
CREATE INDEX "files_status_created_at_idx" ON "files"("status", "created_at");
CREATE INDEX "files_job_id_idx" ON "files"("job_id");
ALTER TABLE "files" ADD CONSTRAINT "files_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "files" ADD CONSTRAINT "files_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- `embedding` is the vector as little-endian float32s (4 bytes per dimension).
CREATE TABLE "file_chunks" (
    "file_id" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "token_count" INTEGER NOT NULL,
    "embedding" BYTEA NOT NULL,
    "embedding_dims" INTEGER NOT NULL,
    CONSTRAINT "file_chunks_pkey" PRIMARY KEY ("file_id", "index")
);
ALTER TABLE "file_chunks" ADD CONSTRAINT "file_chunks_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "files"("id") ON DELETE CASCADE ON UPDATE CASCADE;
