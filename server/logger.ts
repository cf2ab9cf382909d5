import { pino, type Logger } from "pino";
import { scrubMessage } from "./error-report.js";

export type { Logger };

/**
 * Structured logs. Redaction is a second line of defence: code never logs secrets or message
 * contents on purpose, but headers and config objects are scrubbed in case one slips through.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "parley" },
    formatters: {
      // A last line of defence for a query's parameters: no string field of a line keeps them.
      log(obj) {
        for (const [k, v] of Object.entries(obj)) if (typeof v === "string" && v.includes("params:")) obj[k] = scrubMessage(v);
        return obj;
      },
    },
    redact: {
      paths: [
        "*.authorization",
        "*.Authorization",
        "headers.authorization",
        "*.apiKey",
        "*.api_key",
        "*.OPENROUTER_API_KEY",
        "*.content",
        "*.system_prompt",
        "*.systemPrompt",
      ],
      censor: "[redacted]",
    },
  });
}
