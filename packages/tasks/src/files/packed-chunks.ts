import type { TextChunk } from './chunk-text';

/**
 * Chunks as they cross back to the main thread: one string and two typed arrays. Cloning ten thousand strings
 * and objects costs the receiving event loop tens of milliseconds; one string and two arrays are three copies.
 */
export interface PackedChunks {
  joined: string;
  ends: Int32Array;
  tokens: Int32Array;
  pages: number | null;
  chars: number;
}

export function packChunks(chunks: readonly TextChunk[], pages: number | null, chars: number): PackedChunks {
  const ends = new Int32Array(chunks.length);
  const tokens = new Int32Array(chunks.length);
  let at = 0;
  chunks.forEach((c, i) => {
    at += c.text.length;
    ends[i] = at;
    tokens[i] = c.tokens;
  });
  return { joined: chunks.map((c) => c.text).join(''), ends, tokens, pages, chars };
}

/** Slices share the joined string's storage (V8 sliced strings): unpacking copies nothing. */
export function unpackChunks(p: PackedChunks): TextChunk[] {
  const out: TextChunk[] = new Array<TextChunk>(p.ends.length);
  let start = 0;
  for (let i = 0; i < p.ends.length; i++) {
    out[i] = { text: p.joined.slice(start, p.ends[i]), tokens: p.tokens[i]! };
    start = p.ends[i]!;
  }
  return out;
}
