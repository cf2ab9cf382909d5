import type { Context } from "hono";
import { AppError } from "../errors.js";
import { rateKey, rateLimitHeaderValues, retryAfterS } from "../middleware/rate-limit.js";
import type { RateLimits } from "../ratelimit/rate-limits.js";

/** Ten wrong tokens per address per quarter hour: plenty for a typo, hopeless for guessing 192 bits. */
export const FAILED_LOGINS = { name: "admin-login-failures", limit: 10, windowMs: 15 * 60_000 };

/**
 * The one budget of wrong admin tokens per address, whichever way a token is tried: the login form
 * or a Bearer header on any admin route.
 *
 * Each try is counted before the token is checked, in one atomic step on the store, and refunded
 * when the token is right. Looking first and counting after would let parallel tries all see room
 * before any of them is counted.
 */
export class FailedLogins {
  private readonly limiter;

  constructor(rateLimits: RateLimits) {
    this.limiter = rateLimits.limiter(FAILED_LOGINS);
  }

  /** Resolves whether `check` accepted the token; throws 429 once the address has no tries left. */
  async attempt(c: Context, address: string, check: () => Promise<boolean>): Promise<boolean> {
    const key = rateKey(address);
    const room = await this.limiter.consume(key);
    if (!room.allowed) {
      const waitS = retryAfterS(room);
      for (const [k, v] of Object.entries({ ...rateLimitHeaderValues(room), "Retry-After": String(waitS) })) c.header(k, v);
      throw new AppError(429, "too_many_attempts", `Too many wrong tokens from this address; try again in ${Math.ceil(waitS / 60)} min`);
    }
    let ok = false;
    try {
      ok = await check();
    } finally {
      if (ok) await this.limiter.refund(key, room);
    }
    return ok;
  }
}
