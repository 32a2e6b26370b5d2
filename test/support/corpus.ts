const VOCABULARY = (
  'the of and to in is was for on that with as by at from his her which an be this are or had not but were have one ' +
  'worker queue job file process thread pool event loop latency token chunk embed vector database redis postgres ' +
  'upload parse text markdown table column value river mountain history science music language question answer'
).split(' ');

/** About `bytes` of English-like text (words, sentences, paragraphs), the same every run (a fixed LCG seed). */
export function englishLikeText(bytes: number, seed = 42): string {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words = 8 + (next() % 12);
    const sentence: string[] = [];
    for (let i = 0; i < words; i++) sentence.push(VOCABULARY[next() % VOCABULARY.length]!);
    const line = sentence.join(' ') + (next() % 6 === 0 ? '.\n\n' : '. ');
    parts.push(line.charAt(0).toUpperCase() + line.slice(1));
    size += line.length;
  }
  return parts.join('').slice(0, bytes);
}
