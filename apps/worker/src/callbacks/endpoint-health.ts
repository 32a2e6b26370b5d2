import { callbackEndpointFailures } from '@jobs/observability';

/** How many hosts the gauge keeps at most: bounds its label set whatever the tenants' callback URLs are. */
export const ENDPOINT_HEALTH_MAX_HOSTS = 200;

interface HostState {
  failures: number;
  /** Order of the last update, to evict the stalest of equally healthy hosts first. */
  touched: number;
}

/**
 * Consecutive failures per callback host, exported as a gauge. Callback URLs are tenant input, so the
 * host label is unbounded in principle: at most `maxHosts` hosts are tracked, and a newly failing host
 * takes the place of the healthiest one (fewest consecutive failures, then least recently updated). A
 * host with a long failure streak, the one an operator must see, is therefore the last to go. A delivery
 * resets a known host to 0; a delivery to an unknown host adds nothing.
 */
export class EndpointHealth {
  private readonly hosts = new Map<string, HostState>();
  private clock = 0;

  constructor(private readonly maxHosts = ENDPOINT_HEALTH_MAX_HOSTS) {}

  record(url: string, delivered: boolean): void {
    const host = hostOf(url);
    if (host === null) return;
    const known = this.hosts.get(host);
    if (delivered) {
      if (!known) return;
      this.set(host, 0);
      return;
    }
    if (!known && this.hosts.size >= this.maxHosts) this.evictHealthiest();
    this.set(host, (known?.failures ?? 0) + 1);
  }

  /** The tracked hosts and their streaks (tests, diagnostics). */
  snapshot(): Map<string, number> {
    return new Map([...this.hosts].map(([h, s]) => [h, s.failures]));
  }

  private set(host: string, failures: number): void {
    this.hosts.set(host, { failures, touched: ++this.clock });
    callbackEndpointFailures.set({ host }, failures);
  }

  private evictHealthiest(): void {
    let victim: [string, HostState] | undefined;
    for (const entry of this.hosts) {
      const [, s] = entry;
      if (
        !victim ||
        s.failures < victim[1].failures ||
        (s.failures === victim[1].failures && s.touched < victim[1].touched)
      )
        victim = entry;
    }
    if (!victim) return;
    this.hosts.delete(victim[0]);
    callbackEndpointFailures.remove({ host: victim[0] });
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}
