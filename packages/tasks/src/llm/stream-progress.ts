/**
 * Progress reports of a streaming reply: at most one per `everyMs` while it streams, in order, plus one final
 * report with the provider's count at `settle` when the last one was held back (so a finished run never shows
 * a stale count); none after that.
 */
export class StreamProgress {
  private last = -Infinity;
  private chain: Promise<void> = Promise.resolve();
  private chars = 0;
  private reported = 0;
  private latest = 0;

  constructor(
    private readonly maxTokens: number,
    private readonly report: (percent: number, message: string) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly everyMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Output tokens so far are estimated from the streamed text (about 4 characters a token) until the provider's
   * own count arrives with `message_delta`; `exact` replaces the estimate.
   */
  delta(text: string, exact?: number): void {
    this.chars += text.length;
    const tokens = Math.min(this.maxTokens, exact ?? Math.max(this.latest, Math.ceil(this.chars / 4)));
    this.latest = tokens;
    const t = this.now();
    if (t - this.last < this.everyMs || tokens === this.reported) return;
    this.last = t;
    this.send(tokens);
  }

  /** Sends the held-back final count, if any, and waits for every report (the runner writes the outcome after them). */
  settle(): Promise<void> {
    if (this.last !== Infinity && this.latest !== this.reported) this.send(this.latest);
    this.last = Infinity;
    return this.chain;
  }

  private send(tokens: number): void {
    this.reported = tokens;
    const percent = Math.round((tokens / this.maxTokens) * 1000) / 10;
    this.chain = this.chain.then(() => this.report(percent, `${tokens} of ${this.maxTokens} output tokens`)).catch(this.onError);
  }
}
