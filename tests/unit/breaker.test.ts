import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../server/gateway/breaker.js";

function clocked() {
  let t = 1_000_000;
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000, now: () => t });
  return { breaker, advance: (ms: number) => (t += ms) };
}

describe("circuit breaker", () => {
  it("opens after three consecutive failures and refuses without a call", () => {
    const { breaker } = clocked();
    for (let i = 0; i < 2; i++) {
      expect(breaker.tryAcquire("m")).toBe(true);
      breaker.failure("m", "500");
    }
    expect(breaker.state("m")).toBe("closed");
    breaker.failure("m", "502");
    expect(breaker.state("m")).toBe("open");
    expect(breaker.tryAcquire("m")).toBe(false);
    expect(breaker.snapshot().m).toMatchObject({ state: "open", failures: 3, lastError: "502" });
  });

  it("counts only consecutive failures: a success resets the count", () => {
    const { breaker } = clocked();
    breaker.failure("m");
    breaker.failure("m");
    breaker.success("m");
    breaker.failure("m");
    breaker.failure("m");
    expect(breaker.state("m")).toBe("closed");
  });

  it("lets exactly one probe through after the cooldown; its success closes the circuit", () => {
    const { breaker, advance } = clocked();
    for (let i = 0; i < 3; i++) breaker.failure("m");
    advance(9_999);
    expect(breaker.tryAcquire("m")).toBe(false);
    advance(1);
    expect(breaker.state("m")).toBe("half_open");
    expect(breaker.tryAcquire("m")).toBe(true);
    expect(breaker.tryAcquire("m")).toBe(false); // a second request while the probe is out
    breaker.success("m");
    expect(breaker.state("m")).toBe("closed");
    expect(breaker.tryAcquire("m")).toBe(true);
  });

  it("re-opens for another cooldown when the probe fails", () => {
    const { breaker, advance } = clocked();
    for (let i = 0; i < 3; i++) breaker.failure("m");
    advance(10_000);
    expect(breaker.tryAcquire("m")).toBe(true);
    breaker.failure("m");
    expect(breaker.state("m")).toBe("open");
    advance(10_000);
    expect(breaker.tryAcquire("m")).toBe(true);
  });

  it("frees the probe slot when the probe ends neither way (the client left)", () => {
    const { breaker, advance } = clocked();
    for (let i = 0; i < 3; i++) breaker.failure("m");
    advance(10_000);
    expect(breaker.tryAcquire("m")).toBe(true);
    breaker.release("m");
    expect(breaker.tryAcquire("m")).toBe(true);
  });

  it("keeps one circuit per model", () => {
    const { breaker } = clocked();
    for (let i = 0; i < 3; i++) breaker.failure("a");
    expect(breaker.tryAcquire("a")).toBe(false);
    expect(breaker.tryAcquire("b")).toBe(true);
  });
});
