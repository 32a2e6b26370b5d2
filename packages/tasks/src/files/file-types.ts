/** The upload formats of API.md "Sources and files", by extension. */
export const FILE_TYPES = {
  'text/plain': ['.txt', '.text', '.log'],
  'text/markdown': ['.md', '.markdown'],
  'application/json': ['.json'],
  'text/csv': ['.csv'],
  'text/html': ['.html', '.htm'],
  'application/pdf': ['.pdf'],
} as const;

export type FileMimeType = keyof typeof FILE_TYPES;
export const FILE_MIME_TYPES = Object.keys(FILE_TYPES) as FileMimeType[];

/** Declared content types browsers and curl send for these formats, beside the canonical ones. */
const DECLARED_ALIASES: Record<string, FileMimeType> = {
  'text/x-markdown': 'text/markdown',
  'application/csv': 'text/csv',
  'text/x-csv': 'text/csv',
  'application/x-pdf': 'application/pdf',
};

export type Detection = { ok: true; mimeType: FileMimeType } | { ok: false; reason: string };

function byExtension(name: string): FileMimeType | undefined {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return undefined;
  const ext = name.slice(dot).toLowerCase();
  return FILE_MIME_TYPES.find((t) => (FILE_TYPES[t] as readonly string[]).includes(ext));
}

function byDeclared(declared: string | undefined): FileMimeType | undefined {
  const base = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  return (FILE_MIME_TYPES as string[]).includes(base) ? (base as FileMimeType) : DECLARED_ALIASES[base];
}

const isPdf = (head: Uint8Array) => Buffer.from(head.subarray(0, 5)).toString('latin1') === '%PDF-';

/** Text: no NUL byte and valid UTF-8 (a multi-byte character cut by the end of `head` is not held against it). */
function isText(head: Uint8Array, complete: boolean): boolean {
  if (head.includes(0)) return false;
  let end = head.length;
  if (!complete) {
    // Step back over a trailing partial UTF-8 sequence (at most 3 continuation bytes after its lead byte).
    let i = end - 1;
    while (i >= 0 && end - i <= 4 && (head[i]! & 0xc0) === 0x80) i--;
    if (i >= 0 && head[i]! >= 0xc0) end = i;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/**
 * The type of an upload, decided by its extension (else the declared content type) and checked against its first
 * bytes: a PDF must start with `%PDF-`, the text formats must be UTF-8 text. Anything else is unsupported (415).
 */
export function detectFileType(name: string, declared: string | undefined, head: Uint8Array, complete: boolean): Detection {
  const claimed = byExtension(name) ?? byDeclared(declared);
  if (!claimed) {
    if (isPdf(head)) return { ok: true, mimeType: 'application/pdf' };
    return { ok: false, reason: `unsupported file type (name "${name}", content type "${declared ?? ''}"); supported: text, markdown, JSON, CSV, HTML, PDF` };
  }
  if (claimed === 'application/pdf') {
    return isPdf(head) ? { ok: true, mimeType: claimed } : { ok: false, reason: 'the file is named or declared as PDF but does not start with %PDF-' };
  }
  if (isPdf(head)) return { ok: false, reason: `the content is a PDF but the file is named or declared as ${claimed}` };
  return isText(head, complete) ? { ok: true, mimeType: claimed } : { ok: false, reason: `the content is binary, not the UTF-8 text a ${claimed} file must be` };
}
