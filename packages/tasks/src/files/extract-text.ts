import { parse as parseCsv } from 'csv-parse/sync';
import { convert as htmlToText } from 'html-to-text';
import type { FileMimeType } from './file-types';

export interface Extracted {
  text: string;
  /** Pages of a PDF; null for the text formats. */
  pages: number | null;
}

/** A file whose content cannot be read as its type: the message is the file's error_message. */
export class UnreadableFileError extends Error {
  override readonly name = 'UnreadableFileError';
}

/**
 * The upload's text. Its type was sniffed on the first 64 KiB only, so a NUL further on is caught here: a text
 * file holding one is binary, and no retry will change that (PostgreSQL text cannot store U+0000 either).
 */
function utf8(bytes: Uint8Array, mimeType: FileMimeType): string {
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new UnreadableFileError(`binary content: a NUL byte at offset ${nul}, not the UTF-8 text a ${mimeType} file must be`);
  const text = new TextDecoder('utf-8').decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Rows as `column: value` lines, so each chunk carries the header names its values belong to. */
function csvText(text: string): string {
  let rows: string[][];
  try {
    rows = parseCsv(text, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (err) {
    throw new UnreadableFileError(`Could not parse CSV: ${(err as Error).message}`);
  }
  const [header, ...body] = rows;
  if (!header) return '';
  if (body.length === 0) return header.join(', ');
  return body.map((r) => r.map((v, i) => `${header[i] ?? `column ${i + 1}`}: ${v}`).join(', ')).join('\n');
}

function jsonText(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text) as unknown, null, 2);
  } catch (err) {
    throw new UnreadableFileError(`Could not parse JSON: ${(err as Error).message}`);
  }
}

/**
 * PDF text by unpdf: the serverless build of Mozilla's pdf.js, maintained by UnJS, with no canvas or native
 * dependency and no pdf.js worker of its own to manage (we already run this in our thread pool). pdf-parse
 * wraps the same engine with more surface; pdfjs-dist alone needs its worker and DOM shims set up by hand.
 */
async function pdfText(bytes: Uint8Array): Promise<Extracted> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(bytes, { verbosity: 0 });
  } catch (err) {
    throw new UnreadableFileError(`Could not parse PDF: ${(err as Error).message}`);
  }
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    return { text: text.join('\n\n'), pages: totalPages };
  } catch (err) {
    throw new UnreadableFileError(`Could not read the PDF's text: ${(err as Error).message}`);
  } finally {
    await pdf.destroy();
  }
}

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/g;

/**
 * The file's text. NULs a parser produced (pdf.js shows char code 0 in a font it cannot map as one) are dropped:
 * they carry nothing readable, and PostgreSQL text refuses them.
 */
export async function extractText(bytes: Uint8Array, mimeType: FileMimeType): Promise<Extracted> {
  const extracted = await extract(bytes, mimeType);
  return extracted.text.includes('\u0000') ? { ...extracted, text: extracted.text.replace(NUL, '') } : extracted;
}

async function extract(bytes: Uint8Array, mimeType: FileMimeType): Promise<Extracted> {
  switch (mimeType) {
    case 'application/pdf':
      return pdfText(bytes);
    case 'text/csv':
      return { text: csvText(utf8(bytes, mimeType)), pages: null };
    case 'application/json':
      return { text: jsonText(utf8(bytes, mimeType)), pages: null };
    case 'text/html':
      return { text: htmlToText(utf8(bytes, mimeType), { wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }, { selector: 'img', format: 'skip' }] }), pages: null };
    case 'text/plain':
    case 'text/markdown':
      return { text: utf8(bytes, mimeType), pages: null };
  }
}
