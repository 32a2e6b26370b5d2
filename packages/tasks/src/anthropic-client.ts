import Anthropic from '@anthropic-ai/sdk';

export interface AnthropicSettings {
  ANTHROPIC_API_KEY?: string | undefined;
  ANTHROPIC_BASE_URL?: string | undefined;
}

/**
 * The one Anthropic client of a process, or undefined when it is not configured. A base URL without a key
 * is allowed (a local fake or a proxy that adds the key), so a placeholder key is sent then.
 */
export function createAnthropicClient(s: AnthropicSettings, opts: { maxRetries?: number; timeoutMs?: number } = {}): Anthropic | undefined {
  if (!s.ANTHROPIC_API_KEY && !s.ANTHROPIC_BASE_URL) return undefined;
  return new Anthropic({
    apiKey: s.ANTHROPIC_API_KEY ?? 'unset',
    ...(s.ANTHROPIC_BASE_URL ? { baseURL: s.ANTHROPIC_BASE_URL } : {}),
    maxRetries: opts.maxRetries ?? 2,
    timeout: opts.timeoutMs ?? 60_000,
  });
}
