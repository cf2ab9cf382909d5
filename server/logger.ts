import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured logs. Redaction is a second line of defence: code never logs secrets or message
 * contents on purpose, but headers and config objects are scrubbed in case one slips through.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "parley" },
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
