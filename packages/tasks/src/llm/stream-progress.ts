/** Progress reports of a streaming reply, at most one per `everyMs`, in order, none after `settle`. */
export class StreamProgress {
  private last = -Infinity;
  private chain: Promise<void> = Promise.resolve();
  private chars = 0;
  private reported = 0;

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
    const tokens = Math.min(this.maxTokens, exact ?? Math.max(this.reported, Math.ceil(this.chars / 4)));
    const t = this.now();
    if (t - this.last < this.everyMs || tokens === this.reported) return;
    this.last = t;
    this.reported = tokens;
    const percent = Math.round((tokens / this.maxTokens) * 1000) / 10;
    this.chain = this.chain.then(() => this.report(percent, `${tokens} of ${this.maxTokens} output tokens`)).catch(this.onError);
  }

  /** Waits for the reports already started (the runner writes the outcome after them). */
  settle(): Promise<void> {
    this.last = Infinity;
    return this.chain;
  }
}
