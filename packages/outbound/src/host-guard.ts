import { once } from 'node:events';
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { refusedAddressReason } from './address-policy';

/** A destination the guard will not let an outbound request reach. Retrying cannot fix it. */
export class OutboundRefusedError extends Error {
  readonly permanent = true;
  readonly code = 'ERR_OUTBOUND_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

export function isOutboundRefused(err: unknown): err is OutboundRefusedError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_OUTBOUND_REFUSED';
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface HostGuardOptions {
  /** true lifts the address checks (development and tests on one machine); the scheme check stays. */
  allowPrivateNetworks: boolean;
  /** Name resolution; the system resolver (getaddrinfo, as `dns.lookup`) unless a test substitutes one. */
  resolve?: Resolver;
  /** How long a create-time check may wait for DNS. */
  resolveTimeoutMs?: number;
  /**
   * Idle keep-alive sockets kept per host (16 when unset). Below the number of requests that may be in flight to
   * one host, every burst closes the surplus and the next one connects again.
   */
  maxFreeSockets?: number;
}

const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * The SSRF guard of SPEC F6 for every outbound request the service makes on a user's behalf.
 *
 * The check and the connection use the same resolution: the agents' `lookup` resolves the host, refuses
 * the request if any address is not public, and hands exactly the checked addresses to the socket. There
 * is no second lookup an attacker's DNS could answer differently (DNS rebinding). Literal IP hosts never
 * reach `lookup` (the socket connects to them directly), so `checkUrl`/`checkLiteral` cover those.
 */
export class HostGuard {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  readonly lookup: LookupFunction;
  private readonly resolve: Resolver;

  constructor(private readonly opts: HostGuardOptions) {
    this.resolve = opts.resolve ?? systemResolver;
    this.lookup = opts.allowPrivateNetworks ? dns.lookup : this.guardedLookup.bind(this);
    const agentOptions = { keepAlive: true, maxFreeSockets: opts.maxFreeSockets ?? 16, lookup: this.lookup };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  get enforcing(): boolean {
    return !this.opts.allowPrivateNetworks;
  }

  /** Send-time check of what `lookup` cannot see: the scheme and a literal IP host. Returns the parsed URL. */
  checkLiteral(raw: string): URL {
    const url = parseHttpUrl(raw);
    if (!this.enforcing) return url;
    const host = bareHost(url);
    if (net.isIP(host)) {
      const reason = refusedAddressReason(host);
      if (reason) throw new OutboundRefusedError(`refused destination: ${reason}`);
    }
    return url;
  }

  /**
   * Create-time check: the literal checks, then the host must resolve, and only to public addresses.
   * The address may change before sending; the send-time lookup decides again.
   */
  async checkUrl(raw: string): Promise<void> {
    const url = this.checkLiteral(raw);
    if (!this.enforcing) return;
    const host = bareHost(url);
    if (net.isIP(host)) return;
    await this.resolveChecked(host, this.opts.resolveTimeoutMs ?? 5000);
  }

  /** Closes pooled keep-alive sockets (process shutdown). */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private guardedLookup(
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void {
    this.resolveChecked(hostname).then(
      (all) => {
        const wanted = familyOf(options.family);
        const usable = wanted ? all.filter((a) => a.family === wanted) : all;
        if (usable.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no IPv${wanted} address`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  }

  private async resolveChecked(hostname: string, timeoutMs?: number): Promise<LookupAddress[]> {
    if (net.isIP(hostname)) {
      const reason = refusedAddressReason(hostname);
      if (reason) throw new OutboundRefusedError(`refused destination: ${reason}`);
      return [{ address: hostname, family: net.isIP(hostname) }];
    }
    let addresses: LookupAddress[];
    try {
      addresses = timeoutMs ? await settledBefore(this.resolve(hostname), AbortSignal.timeout(timeoutMs)) : await this.resolve(hostname);
    } catch (err) {
      if (timeoutMs === undefined) throw err;
      // At create time an unresolvable host is the caller's mistake (400), not a transient fault.
      const why = isTimeout(err) ? `no answer within ${timeoutMs} ms` : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      throw new OutboundRefusedError(`host ${hostname} does not resolve (${why})`);
    }
    if (addresses.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
    // Any forbidden address refuses the host: a name that also points inside is not trusted with the others.
    for (const a of addresses) {
      const reason = refusedAddressReason(a.address);
      if (reason) throw new OutboundRefusedError(`refused destination: ${hostname} resolves to ${reason}`);
    }
    return addresses;
  }
}

export function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefusedError('not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError(`scheme ${url.protocol} is not allowed (http or https only)`);
  return url;
}

/** The URL's host without IPv6 brackets. The WHATWG parser already turned 2130706433 or 0x7f.1 into dotted IPv4. */
function bareHost(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function familyOf(f: LookupOptions['family']): 4 | 6 | 0 {
  if (f === 4 || f === 'IPv4') return 4;
  if (f === 6 || f === 'IPv6') return 6;
  return 0;
}

/** `p`, or the signal's reason once it aborts (the system resolver takes no signal of its own). */
async function settledBefore<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = once(signal, 'abort').then(() => Promise.reject<T>(signal.reason));
  return Promise.race([p, aborted]);
}

const isTimeout = (err: unknown): boolean => err instanceof DOMException && err.name === 'TimeoutError';
