import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { merge } from "../merge.js";

/**
 * Where an admin-configured provider may send requests. An admin can name any base URL, and the
 * Test button shows what the target answers, so without a rule a provider row reaches the
 * deployment's own network: cloud metadata (169.254.169.254), databases, other services on
 * loopback. Unless ALLOW_PRIVATE_UPSTREAMS is set, upstreams must resolve to public addresses;
 * Parley's own chat worker (on loopback, started or named by Parley) is always allowed.
 */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv6");
}

export function isPrivateAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped) return PRIVATE.check(mapped, "ipv4");
  const family = isIP(ip);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return PRIVATE.check(ip, family === 4 ? "ipv4" : "ipv6");
}

export class PrivateTargetError extends Error {
  readonly code = "EPRIVATETARGET";
  constructor(host: string) {
    super(`${host} is a private or local address; set ALLOW_PRIVATE_UPSTREAMS=true to allow providers on your own network`);
  }
}

/** The reason a URL's literal host is refused, checked before connecting (a literal IP is never looked up). */
export function privateUrlTarget(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return new PrivateTargetError(host).message;
  return isIP(host) && isPrivateAddress(host) ? new PrivateTargetError(host).message : undefined;
}

/** A DNS lookup for sockets that fails when any address a name resolves to is private (no rebinding to a private one). */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, merge(options, { all: true as const }), (err, addresses) => {
    if (err) return callback(err, "", 0);
    const list = addresses as LookupAddress[];
    if (list.length === 0 || list.some((a) => isPrivateAddress(a.address))) return callback(new PrivateTargetError(hostname), "", 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};
