import { decode, encode } from 'gpt-tokenizer';

export interface TextChunk {
  text: string;
  tokens: number;
}

/**
 * Windows of `size` BPE tokens (o200k_base, gpt-tokenizer), each starting `size - overlap` tokens after the
 * previous one, so neighbours share `overlap` tokens of context. Whitespace-only text has no chunks.
 */
export function chunkText(text: string, size: number, overlap: number): TextChunk[] {
  if (overlap >= size) throw new RangeError('overlap must be smaller than size');
  if (text.trim() === '') return [];
  const tokens = encode(text);
  const step = size - overlap;
  const chunks: TextChunk[] = [];
  for (let start = 0; start < tokens.length; start += step) {
    const window = tokens.slice(start, start + size);
    chunks.push({ text: decode(window), tokens: window.length });
    if (start + size >= tokens.length) break;
  }
  return chunks;
}
