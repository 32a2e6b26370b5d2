/**
 * One status line for `jobs watch`. On a terminal it redraws in place (`\r`, cleared to the end of line);
 * piped into a file it prints a line only when something changed, so logs stay readable.
 */
export class ProgressLine {
  private last = '';

  constructor(
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream,
    private readonly tty: boolean,
    private readonly width = 30,
  ) {}

  render(status: string, percent: number | null, message: string | null): void {
    const p = percent === null ? null : Math.max(0, Math.min(100, percent));
    const meter = p === null ? '' : `${bar(p, this.width)} ${p.toFixed(0).padStart(3)}% `;
    const line = `${status.padEnd(9)} ${meter}${message ?? ''}`.trimEnd();
    if (line === this.last) return;
    this.last = line;
    this.out.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  /** Ends the redrawn line so what follows starts on a fresh one. */
  done(): void {
    if (this.tty && this.last) this.out.write('\n');
  }
}

export function bar(percent: number, width = 30): string {
  const p = Math.max(0, Math.min(100, percent));
  return `[${'#'.repeat(Math.round((p / 100) * width)).padEnd(width, '-')}]`;
}
