import { decode, encode } from 'gpt-tokenizer';
import { FILE_STATUSES, canMoveFile, fileTimeoutMessage, isTerminalFileStatus } from '../../packages/core/src';
import { chunkText } from '../../packages/tasks/src/files/chunk-text';
import { embeddingsEndpoint } from '../../packages/tasks/src/files/embedders';
import { detectFileType } from '../../packages/tasks/src/files/file-types';
import { hashEmbed } from '../../packages/tasks/src/files/hash-embed';

describe('file status machine', () => {
  it('ends in completed or error, and nothing leaves them', () => {
    for (const terminal of ['completed', 'error'] as const) {
      expect(isTerminalFileStatus(terminal)).toBe(true);
      for (const to of FILE_STATUSES) expect(canMoveFile(terminal, to)).toBe(false);
    }
  });
  it('goes pending → parsing → embedding → completed, error from any non-terminal status, and restarts at parsing', () => {
    expect(canMoveFile('pending', 'parsing')).toBe(true);
    expect(canMoveFile('parsing', 'embedding')).toBe(true);
    expect(canMoveFile('embedding', 'completed')).toBe(true);
    expect(canMoveFile('pending', 'completed')).toBe(false);
    expect(canMoveFile('parsing', 'completed')).toBe(false);
    for (const from of ['pending', 'parsing', 'embedding'] as const) expect(canMoveFile(from, 'error')).toBe(true);
    expect(canMoveFile('embedding', 'parsing')).toBe(true);
  });
  it('fills the timeout message with the minutes', () => {
    expect(fileTimeoutMessage('File processing timed out after {} minutes. Please try again.', 30)).toBe('File processing timed out after 30 minutes. Please try again.');
  });
});

describe('detectFileType', () => {
  const text = new TextEncoder().encode('hello, world');
  const pdf = new TextEncoder().encode('%PDF-1.7\n...');
  it('takes the type from the extension, else the declared type, checked against the content', () => {
    expect(detectFileType('a.md', 'application/octet-stream', text, true)).toEqual({ ok: true, mimeType: 'text/markdown' });
    expect(detectFileType('a', 'text/csv; charset=utf-8', text, true)).toEqual({ ok: true, mimeType: 'text/csv' });
    expect(detectFileType('a.PDF', undefined, pdf, true)).toEqual({ ok: true, mimeType: 'application/pdf' });
    expect(detectFileType('noext', 'application/octet-stream', pdf, true)).toEqual({ ok: true, mimeType: 'application/pdf' });
  });
  it('refuses binary text, non-PDF PDFs, PDFs named as text and unknown types', () => {
    expect(detectFileType('a.txt', 'text/plain', new Uint8Array([104, 0, 105]), true).ok).toBe(false);
    expect(detectFileType('a.txt', 'text/plain', new Uint8Array([0xc3, 0x28]), true).ok).toBe(false);
    expect(detectFileType('a.pdf', 'application/pdf', text, true).ok).toBe(false);
    expect(detectFileType('a.txt', 'text/plain', pdf, true).ok).toBe(false);
    expect(detectFileType('a.exe', 'application/x-msdownload', text, true).ok).toBe(false);
  });
  it('does not hold a multi-byte character cut by the sniffed head against the file', () => {
    const euro = new TextEncoder().encode('price: €');
    expect(detectFileType('a.txt', 'text/plain', euro.subarray(0, euro.length - 1), false).ok).toBe(true);
    expect(detectFileType('a.txt', 'text/plain', euro.subarray(0, euro.length - 1), true).ok).toBe(false);
  });
});

describe('chunkText', () => {
  it('cuts windows of `size` tokens, each sharing `overlap` tokens with the previous one, covering the text', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `w${i}`).join(' ');
    const chunks = chunkText(text, 100, 20);
    const tokens = encode(text);
    expect(chunks.slice(0, -1).every((c) => c.tokens === 100)).toBe(true);
    expect(chunks.length).toBe(Math.ceil((tokens.length - 20) / 80));
    expect(chunks[1]!.text.startsWith(decode(tokens.slice(80, 100)))).toBe(true);
    expect(chunks[chunks.length - 1]!.text.endsWith('w999')).toBe(true);
  });
  it('has no chunks for blank text, one for short text', () => {
    expect(chunkText('  \n ', 512, 64)).toEqual([]);
    expect(chunkText('short', 512, 64)).toEqual([{ text: 'short', tokens: 1 }]);
  });
});

describe('hashEmbed', () => {
  const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  it('is deterministic, unit length, and closer for texts sharing words', () => {
    const a = hashEmbed('the quick brown fox jumps', 256);
    expect(Array.from(hashEmbed('the quick brown fox jumps', 256))).toEqual(Array.from(a));
    expect(cos(a, a)).toBeCloseTo(1, 5);
    expect(cos(a, hashEmbed('the quick brown fox sleeps', 256))).toBeGreaterThan(cos(a, hashEmbed('completely unrelated sentence here', 256)));
    expect(hashEmbed('', 8).every((x) => x === 0)).toBe(true);
  });
});

describe('embeddingsEndpoint', () => {
  it('appends /v1/embeddings to a base URL and keeps a full one', () => {
    expect(embeddingsEndpoint('https://api.example.com')).toBe('https://api.example.com/v1/embeddings');
    expect(embeddingsEndpoint('https://api.example.com/v1/')).toBe('https://api.example.com/v1/embeddings');
    expect(embeddingsEndpoint('http://h:1/openai/v1/embeddings')).toBe('http://h:1/openai/v1/embeddings');
  });
});
