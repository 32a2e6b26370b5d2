import { randomUUID } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, BadRequestError, ValidationError } from '@jobs/core';
import { detectFileType, type FileMimeType } from '@jobs/tasks';
import type { Request, Response } from 'express';
import multer from 'multer';

/** Bytes read to decide an upload's type (PDF magic, UTF-8 text). */
const SNIFF_BYTES = 64 * 1024;
/** Room for the multipart framing around the file when checking Content-Length up front. */
const MULTIPART_OVERHEAD = 64 * 1024;

export interface ReceivedUpload {
  name: string;
  mimeType: FileMimeType;
  sizeBytes: number;
  /** In memory (stored as bytea) ... */
  content?: Buffer;
  /** ... or already written under FILE_STORAGE_DIR. */
  storagePath?: string;
}

const tooLarge = (limit: number) => new AppError(413, 'Content Too Large', `the file is larger than MAX_UPLOAD_BYTES (${limit} bytes)`, [{ path: 'file', message: `must be at most ${limit} bytes` }]);

async function headOf(file: Express.Multer.File): Promise<Buffer> {
  if (file.buffer) return file.buffer.subarray(0, SNIFF_BYTES);
  const fh = await open(file.path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(SNIFF_BYTES, file.size));
    await fh.read(buf, 0, buf.length, 0);
    return buf;
  } finally {
    await fh.close();
  }
}

/**
 * Receives the one `file` field of a multipart upload, streamed by multer (busboy): MAX_UPLOAD_BYTES is enforced
 * while the bytes arrive (413, and multer drops what it had: memory, or the partial file under FILE_STORAGE_DIR);
 * a type unsupported by extension and content is a 415, with the part already discarded.
 */
export function uploadReceiver(opts: { maxBytes: number; storageDir?: string }): (req: Request, res: Response) => Promise<ReceivedUpload> {
  const storage = opts.storageDir
    ? multer.diskStorage({ destination: opts.storageDir, filename: (_req, _file, cb) => cb(null, `upload-${randomUUID()}`) })
    : multer.memoryStorage();
  const single = multer({ storage, limits: { fileSize: opts.maxBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 20 }, defParamCharset: 'utf8' }).single('file');

  return async (req, res) => {
    const declared = Number(req.get('content-length'));
    // A declared body that cannot fit is refused before a byte of it is read.
    if (Number.isFinite(declared) && declared > opts.maxBytes + MULTIPART_OVERHEAD) throw tooLarge(opts.maxBytes);
    // No multipart body means no `file` field: the 400 of a missing field (415 is for an unsupported file type).
    if (!req.is('multipart/form-data')) {
      throw new ValidationError([{ path: 'file', message: 'required: a multipart/form-data body with one field named `file` holding the upload' }]);
    }
    await new Promise<void>((resolve, reject) => {
      single(req, res, (err: unknown) => {
        if (!err) return resolve();
        if (err instanceof multer.MulterError) {
          if (err.code === 'LIMIT_FILE_SIZE') return reject(tooLarge(opts.maxBytes));
          const path = err.field ?? 'file';
          return reject(new ValidationError([{ path, message: err.code === 'LIMIT_UNEXPECTED_FILE' ? 'unexpected file field; send exactly one field named `file`' : err.message }]));
        }
        reject(new BadRequestError(`malformed multipart body: ${err instanceof Error ? err.message : String(err)}`, [{ path: 'file', message: 'malformed multipart body' }]));
      });
    });
    const file = req.file;
    if (!file) throw new ValidationError([{ path: 'file', message: 'required: a multipart field named `file` holding the upload' }]);
    const discard = async () => {
      if (file.path) await unlink(file.path).catch(() => undefined);
    };
    try {
      // Control characters (NUL among them) have no place in a file name and cannot be stored as text.
      const name = [...file.originalname].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch !== '\u007f').join('').slice(0, 255) || 'upload';
      const detected = detectFileType(name, file.mimetype, await headOf(file), file.size <= SNIFF_BYTES);
      if (!detected.ok) throw new AppError(415, 'Unsupported Media Type', detected.reason, [{ path: 'file', message: detected.reason }]);
      return {
        name,
        mimeType: detected.mimeType,
        sizeBytes: file.size,
        ...(file.buffer ? { content: file.buffer } : { storagePath: opts.storageDir ? join(opts.storageDir, file.filename) : file.path }),
      };
    } catch (err) {
      await discard();
      throw err;
    }
  };
}
