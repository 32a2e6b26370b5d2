import ipaddr from 'ipaddr.js';

/**
 * Which IP addresses outbound requests (callbacks, the http.request task) may reach: only globally
 * routable unicast. Everything that leads into the host, its network or the cloud's metadata service
 * is refused, including IPv6 spellings that carry an IPv4 address inside them.
 *
 * Returns null when the address may be used, else a short reason.
 */
export function refusedAddressReason(address: string): string | null {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone index (fe80::1%eth0) only ever accompanies link-local addresses.
  if (bare.includes('%')) return 'an IPv6 address with a zone index (link-local)';
  if (!ipaddr.isValid(bare)) return 'not an IP address';
  const parsed = ipaddr.parse(bare);
  return parsed.kind() === 'ipv4' ? ipv4Reason(parsed as ipaddr.IPv4) : ipv6Reason(parsed as ipaddr.IPv6);
}

export function isRefusedAddress(address: string): boolean {
  return refusedAddressReason(address) !== null;
}

function ipv4Reason(ip: ipaddr.IPv4): string | null {
  const range = ip.range();
  return range === 'unicast' ? null : `${ip.toString()} is ${describe(range)}`;
}

/** What a refused IPv4 address is, without the address itself (for the embedded forms below). */
function ipv4Kind(ip: ipaddr.IPv4): string | null {
  const range = ip.range();
  return range === 'unicast' ? null : describe(range);
}

function ipv6Reason(ip: ipaddr.IPv6): string | null {
  const parts = ip.parts;
  const embedded = (hi: number, lo: number) => ipaddr.IPv4.parse(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  const via = (v4: ipaddr.IPv4, form: string) => {
    const kind = ipv4Kind(v4);
    return kind === null ? null : `${ip.toString()} is ${form} of ${v4.toString()}, which is ${kind}`;
  };
  if (ip.isIPv4MappedAddress()) return via(ip.toIPv4Address(), 'the IPv4-mapped form');
  // ::a.b.c.d (deprecated IPv4-compatible form, RFC 4291 2.5.5.1): no legitimate peer uses it.
  if (parts.slice(0, 6).every((p) => p === 0) && (parts[6] !== 0 || (parts[7] ?? 0) > 1)) {
    return `${ip.toString()} is an IPv4-compatible IPv6 address`;
  }
  // NAT64 well-known prefix 64:ff9b::/96 (DNS64 networks): judged by the IPv4 address it translates to.
  if (parts[0] === 0x64 && parts[1] === 0xff9b && parts.slice(2, 6).every((p) => p === 0)) {
    return via(embedded(parts[6]!, parts[7]!), 'the NAT64 form');
  }
  // 6to4 (2002:V4HI:V4LO::/48) tunnels to the IPv4 address in bits 16..47.
  if (parts[0] === 0x2002) return via(embedded(parts[1]!, parts[2]!), 'the 6to4 form');
  const range = ip.range();
  return range === 'unicast' ? null : `${ip.toString()} is ${describe(range)}`;
}

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT (100.64.0.0/10)',
  private: 'private',
  reserved: 'reserved',
  uniqueLocal: 'unique-local (fc00::/7)',
  ipv4Mapped: 'IPv4-mapped',
  rfc6052: 'NAT64',
  rfc6145: 'IPv4-translated',
  teredo: 'a Teredo tunnel',
  discard: 'discard-only',
  deprecatedSiteLocal: 'site-local',
};

function describe(range: string): string {
  return `${RANGE_NAMES[range] ?? `special-purpose (${range})`}, not a public address`;
}
