import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Webhook URLs are chosen by tenants, and the webhooks process runs inside
 * our network: a URL that reaches a loopback, private, link-local or cloud
 * metadata address would let a tenant make requests to our own services.
 * Such addresses are refused, when an endpoint is saved and again before
 * every attempt, unless the operator allows them (local development, tests).
 * The flag lets through only loopback, private and shared (carrier-grade
 * NAT) addresses: metadata, link-local and reserved ones (which can embed a
 * metadata address, as NAT64 does) stay refused, since they hold the
 * credentials of the machine itself.
 */

type Family = 'ipv4' | 'ipv6';

/** What WEBHOOK_ALLOW_PRIVATE_URLS lets a webhook reach. */
const ALLOWED_WITH_FLAG = new Set(['a loopback', 'a private', 'a shared (carrier-grade NAT)']);

/** Address ranges a webhook may not reach, most specific first. */
const FORBIDDEN: readonly { kind: string; ranges: readonly [string, number, Family][] }[] = [
  {
    kind: 'a cloud metadata',
    ranges: [
      ['169.254.169.254', 32, 'ipv4'],
      ['169.254.170.2', 32, 'ipv4'],
      ['fd00:ec2::254', 128, 'ipv6'],
      ['100.100.100.200', 32, 'ipv4'],
    ],
  },
  {
    kind: 'an unspecified',
    ranges: [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  },
  {
    kind: 'a loopback',
    ranges: [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  },
  {
    kind: 'a private',
    ranges: [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ],
  },
  {
    kind: 'a link-local',
    ranges: [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  },
  { kind: 'a shared (carrier-grade NAT)', ranges: [['100.64.0.0', 10, 'ipv4']] },
  {
    kind: 'a multicast',
    ranges: [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  },
  {
    kind: 'a reserved',
    ranges: [
      ['192.0.0.0', 24, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['::', 96, 'ipv6'],
      // Prefixes that carry an IPv4 address inside the IPv6 one (NAT64, its
      // local-use range, IPv4-translated, 6to4, and Teredo within the IETF
      // block), so that a metadata or loopback address could hide in them;
      // and 100::/64, which only discards.
      ['64:ff9b::', 96, 'ipv6'],
      ['64:ff9b:1::', 48, 'ipv6'],
      ['::ffff:0:0:0', 96, 'ipv6'],
      ['2002::', 16, 'ipv6'],
      ['2001::', 23, 'ipv6'],
      ['100::', 64, 'ipv6'],
      ['2001:db8::', 32, 'ipv6'],
      ['fec0::', 10, 'ipv6'],
    ],
  },
];

const blockLists = FORBIDDEN.map(({ kind, ranges }) => {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return { kind, list };
});

/**
 * Why an IP address may not be reached ("a loopback address"), or undefined
 * when it is public. IPv4 addresses mapped into IPv6 are judged as IPv4.
 */
export function forbiddenAddressKind(address: string): string | undefined {
  const version = isIP(address);
  if (version === 0) return 'not an IP';
  const family: Family = version === 4 ? 'ipv4' : 'ipv6';
  return blockLists.find(({ list }) => list.check(address, family))?.kind;
}

export interface PinnedAddress {
  address: string;
  family: 4 | 6;
}

export type UrlCheck =
  | { ok: true; url: URL; pinned: PinnedAddress | undefined }
  | { ok: false; reason: string };

/**
 * Checks what a URL may be used for without any network access: http(s)
 * only, https unless private URLs are allowed, no credentials in it.
 */
export function checkUrlShape(raw: string, allowPrivate: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    return { ok: false, reason: allowPrivate ? 'must be http or https' : 'must be https' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'must not carry a user name or password' };
  }
  return { ok: true, url, pinned: undefined };
}

/**
 * Resolves a URL's host and checks every address it resolves to. A host with
 * one forbidden address is refused as a whole, since any of them may be
 * used. The answer pins the first address: the request must connect to it,
 * and not resolve the name again, so that a DNS answer that changes between
 * check and connect cannot lead it elsewhere. With private URLs allowed,
 * loopback, private and shared addresses pass, and nothing is pinned: that
 * mode is for development, where a name may resolve to several local
 * addresses of which the receiver listens on one.
 */
export async function resolveSafeUrl(raw: string, allowPrivate: boolean): Promise<UrlCheck> {
  const shape = checkUrlShape(raw, allowPrivate);
  if (!shape.ok) return shape;

  const host = shape.url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: PinnedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) === 4 ? 4 : 6 }];
  } else {
    try {
      const found = await lookup(host, { all: true, verbatim: true });
      addresses = found.map((entry) => ({
        address: entry.address,
        family: entry.family === 6 ? 6 : 4,
      }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { ok: false, reason: `host ${host} does not resolve (${String(code ?? 'error')})` };
    }
  }

  for (const { address } of addresses) {
    const kind = forbiddenAddressKind(address);
    if (kind && !(allowPrivate && ALLOWED_WITH_FLAG.has(kind))) {
      return { ok: false, reason: `resolves to ${kind} address (${address})` };
    }
  }
  const [first] = addresses;
  if (!first) return { ok: false, reason: `host ${host} has no address` };
  // Private URLs are for development, where the name may resolve to several
  // local addresses and the receiver listens on only one of them.
  return { ok: true, url: shape.url, pinned: allowPrivate ? undefined : first };
}
