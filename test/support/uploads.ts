import { PDFDocument, StandardFonts } from 'pdf-lib';
import { OPERATOR_KEY, type TestStack } from './stack';

export interface Upload {
  status: number;
  body: Record<string, unknown>;
}

/** `POST /api/sources/{id}/upload` as a client sends it: multipart/form-data with the bytes in `field`. */
export async function upload(stack: TestStack, sourceId: string, name: string, bytes: Uint8Array | string, opts: { type?: string; key?: string; field?: string } = {}): Promise<Upload> {
  const form = new FormData();
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  form.append(opts.field ?? 'file', new Blob([data], { type: opts.type ?? 'application/octet-stream' }), name);
  const res = await fetch(`${stack.url}/api/sources/${sourceId}/upload`, { method: 'POST', headers: { authorization: `Bearer ${opts.key ?? OPERATOR_KEY}` }, body: form });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A real PDF of `pages` pages, each with one line naming it, written by pdf-lib. */
export async function makePdf(pages: number, line = (i: number) => `This is page ${i} of the generated test document.`): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= pages; i++) doc.addPage().drawText(line(i), { x: 50, y: 700, size: 14, font });
  return doc.save();
}
