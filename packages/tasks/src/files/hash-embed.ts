/** 32-bit FNV-1a over UTF-16 code units: fast, deterministic, no dependency. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The local embedder: feature hashing ("the hashing trick") of lower-cased words and word bigrams into `dims`
 * buckets with a hash-derived sign, then L2-normalised. Deterministic, so equal texts get equal vectors and
 * texts sharing words are close in cosine similarity; no model, no network.
 */
export function hashEmbed(text: string, dims: number): Float32Array {
  const v = new Float32Array(dims);
  const words = text.toLowerCase().match(WORD) ?? [];
  const add = (feature: string) => {
    const h = fnv1a(feature);
    v[h % dims]! += h & 0x80000000 ? -1 : 1;
  };
  for (let i = 0; i < words.length; i++) {
    add(words[i]!);
    if (i > 0) add(`${words[i - 1]} ${words[i]}`);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < dims; i++) v[i]! *= inv;
  }
  return v;
}
