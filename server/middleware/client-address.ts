import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
const normalize = (address: string) => address.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");

function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by @hono/node-server (app.request in a unit test)
  }
}

/**
 * The address a request came from. Behind `trustedProxies` proxies, each of which appends the
 * address it saw to X-Forwarded-For, the client is that many entries from the right; anything
 * further left was written by the client and proves nothing. With no trusted proxy the header is
 * ignored, since anyone can send it.
 */
export function clientAddress(c: Context, trustedProxies: number): string {
  const socket = normalize(socketAddress(c));
  if (trustedProxies === 0) return socket;
  const forwarded = (c.req.header("x-forwarded-for") ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  const chain = [...forwarded, socket];
  return normalize(chain[Math.max(0, chain.length - 1 - trustedProxies)]!);
}

/**
 * Whether the browser's connection is TLS: the request's own scheme, or, behind a trusted proxy
 * that ends TLS, the X-Forwarded-Proto it set (its last entry, the one the nearest proxy wrote).
 */
export function requestIsHttps(c: Context, trustedProxies: number): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  if (trustedProxies === 0) return false;
  const proto = (c.req.header("x-forwarded-proto") ?? "").split(",").at(-1)?.trim().toLowerCase();
  return proto === "https";
}
