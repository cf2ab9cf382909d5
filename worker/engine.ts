import { randomInt } from "node:crypto";
import path from "node:path";
import {
  chatWrappers,
  getLlama,
  LlamaChat,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type GbnfJsonSchema,
  type Llama,
  type LlamaContext,
  type LlamaGrammar,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config.js";
import type { ChatRole } from "../contracts/enums.js";
import type { ResponseFormat } from "../contracts/openai.js";

export type ChatTurn = { role: ChatRole; content: string };

export type GenerateParams = {
  /** Holds the reply to a shape (JSON, or JSON matching a schema). */
  grammar?: LlamaGrammar;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
};

export type Generation = {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: "stop" | "length";
  /** The client went away; `text` is what was generated until then. */
  aborted: boolean;
};

/** One context sequence and the chat evaluator bound to it; a request holds a slot while it generates. */
export type Slot = { sequence: LlamaContextSequence; chat: LlamaChat };

/** A conversation rendered with the chat template and tokenized, ready for a slot. */
export type Prepared = { history: ChatHistoryItem[]; tokens: Token[] };

export class PromptTooLongError extends Error {
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
  ) {
    super(
      `The conversation is ${promptTokens} tokens long and this model's context holds ${contextSize} ` +
        `(with room for at least one token of reply). Shorten the conversation or raise CHAT_WORKER_CONTEXT.`,
    );
  }
}

/** Schemas whose grammars are kept: a few tasks' worth. */
const MAX_GRAMMARS = 32;

/** A JSON schema the grammar builder cannot follow. */
export class UnsupportedSchemaError extends Error {}

const JSON_TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

/**
 * What node-llama-cpp's grammar builder follows of JSON Schema: types, properties, items (and
 * prefixItems), enum, const, oneOf, $defs/$ref, item counts and string lengths. A schema outside it
 * is refused by name rather than followed loosely; keywords it ignores (minimum, pattern, …) are
 * said in the README.
 */
export function checkGrammarSchema(node: unknown, at = "schema"): void {
  if (typeof node === "boolean") return;
  if (!node || typeof node !== "object" || Array.isArray(node)) throw new UnsupportedSchemaError(`${at} is not a schema object`);
  const o = node as Record<string, unknown>;
  const types = o.type === undefined ? [] : Array.isArray(o.type) ? o.type : [o.type];
  for (const t of types) if (typeof t !== "string" || !JSON_TYPES.has(t)) throw new UnsupportedSchemaError(`${at}.type "${String(t)}" is not a JSON type`);
  for (const k of ["anyOf", "allOf", "not", "if"]) if (k in o) throw new UnsupportedSchemaError(`${at}.${k} is not supported (oneOf is)`);
  if (typeof o.$ref === "string" && !o.$ref.startsWith("#/$defs/")) throw new UnsupportedSchemaError(`${at}.$ref must point into #/$defs`);
  const children: [string, unknown][] = [
    ...Object.entries((o.properties as Record<string, unknown>) ?? {}).map(([k, v]) => [`${at}.properties.${k}`, v] as [string, unknown]),
    ...Object.entries((o.$defs as Record<string, unknown>) ?? {}).map(([k, v]) => [`${at}.$defs.${k}`, v] as [string, unknown]),
    ...((o.oneOf as unknown[]) ?? []).map((v, i) => [`${at}.oneOf.${i}`, v] as [string, unknown]),
    ...((o.prefixItems as unknown[]) ?? []).map((v, i) => [`${at}.prefixItems.${i}`, v] as [string, unknown]),
    ...(o.items !== undefined ? [[`${at}.items`, o.items] as [string, unknown]] : []),
    ...(o.additionalProperties !== undefined && typeof o.additionalProperties === "object" ? [[`${at}.additionalProperties`, o.additionalProperties] as [string, unknown]] : []),
  ];
  for (const [where, child] of children) checkGrammarSchema(child, where);
}

export type TemplateInfo = { source: "model" | "fallback"; name: string };

/**
 * The model, its context (one sequence per slot) and the chat template. node-llama-cpp is used with
 * prebuilt binaries only: `build: "never"` means a missing binary is an error, never a compile.
 */
export class Engine {
  /** Grammars by schema: making one compiles it, and a client sends the same schema again and again. */
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  private constructor(
    private readonly llama: Llama,
    readonly modelId: string,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chatWrapper: ChatWrapper,
    readonly template: TemplateInfo,
    readonly slots: Slot[],
  ) {}

  static async load(config: WorkerConfig, modelPath: string, log: Logger): Promise<Engine> {
    const llama = await getLlama({
      gpu: config.gpu,
      build: "never",
      maxThreads: config.threads,
      logLevel: LlamaLogLevel.warn,
      // llama.cpp's own warnings (odd metadata in a GGUF, say) go to our log at debug, not to stderr.
      logger: (level, message) => log.debug({ level, llama: message.trim() }, "llama.cpp"),
    });
    const model = await llama.loadModel({ modelPath });
    const context = await model.createContext({
      contextSize: config.contextSize,
      sequences: config.slots,
      threads: config.threads,
    });
    const { wrapper, template } = chooseTemplate(model, config.fallbackTemplate);
    const slots = Array.from({ length: config.slots }, () => {
      const sequence = context.getSequence();
      return { sequence, chat: new LlamaChat({ contextSequence: sequence, chatWrapper: wrapper }) };
    });
    const modelId = path.basename(modelPath).replace(/\.gguf$/i, "");
    return new Engine(llama, modelId, model, context, wrapper, template, slots);
  }

  /**
   * The grammar that holds a reply to `response_format`: any JSON object, or node-llama-cpp's
   * grammar for a JSON schema (a subset of JSON Schema: types, properties, enums, items and their
   * counts, string lengths, $defs). Undefined for plain text. A schema it cannot turn into a
   * grammar is the caller's error.
   */
  async grammarFor(format: ResponseFormat | undefined): Promise<LlamaGrammar | undefined> {
    if (!format || format.type === "text") return undefined;
    const key = format.type === "json_object" ? "json" : JSON.stringify(format.json_schema.schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      if (format.type === "json_schema") checkGrammarSchema(format.json_schema.schema);
      grammar =
        format.type === "json_object"
          ? this.llama.getGrammarFor("json")
          : // A client's schema, checked by the grammar builder itself (it throws on what it cannot follow).
            (this.llama.createGrammarForJsonSchema.bind(this.llama) as (schema: GbnfJsonSchema) => Promise<LlamaGrammar>)(format.json_schema.schema as GbnfJsonSchema);
      if (this.grammars.size >= MAX_GRAMMARS) this.grammars.delete(this.grammars.keys().next().value!);
      this.grammars.set(key, grammar);
      grammar.catch(() => this.grammars.delete(key));
    }
    try {
      return await grammar;
    } catch (err) {
      throw new UnsupportedSchemaError((err as Error).message);
    }
  }

  /** Tokens per sequence; llama.cpp may round the requested size up. */
  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Tokens of each text by the model's own tokenizer, without special tokens: what a message's content costs. */
  countTokens(texts: string[]): number[] {
    return texts.map((t) => this.model.tokenize(t, false).length);
  }

  /** Renders the whole conversation as the model will see it, so its length is known before any slot is taken. */
  prepare(turns: ChatTurn[]): Prepared {
    const history: ChatHistoryItem[] = turns.map((t) =>
      t.role === "assistant" ? { type: "model", response: [t.content] } : { type: t.role, text: t.content },
    );
    // A trailing assistant turn is continued (a prefill); otherwise the model starts a new reply.
    if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: history });
    const tokens = contextText.tokenize(this.model.tokenizer);
    // node-llama-cpp wants one free token beyond the prompt before it generates anything.
    if (tokens.length + 2 > this.contextSize) throw new PromptTooLongError(tokens.length, this.contextSize);
    return { history, tokens };
  }

  /** How much of the prompt a slot already holds from its last request (its KV cache is reused). */
  sharedPrefix(slot: Slot, prepared: Prepared): number {
    return slot.sequence.compareContextTokens(prepared.tokens).firstDifferentIndex;
  }

  async generate(
    slot: Slot,
    prepared: Prepared,
    params: GenerateParams,
    /** `onText` gets each piece of the reply with the tokens it came from. */
    opts: { signal: AbortSignal; onText: (text: string, tokens: readonly Token[]) => void },
  ): Promise<Generation> {
    const room = this.contextSize - prepared.tokens.length - 1;
    const maxTokens = Math.min(params.maxTokens ?? room, room);
    const before = slot.sequence.tokenMeter.getState();
    let text = "";
    const res = await slot.chat.generateResponse(prepared.history, {
      maxTokens,
      temperature: params.temperature ?? 1,
      topP: params.topP ?? 1,
      // node-llama-cpp's default seed is the current second: two requests in one second would match.
      seed: params.seed === undefined ? randomInt(2 ** 31) : params.seed >>> 0,
      customStopTriggers: params.stop?.filter((s) => s !== ""),
      ...(params.grammar ? { grammar: params.grammar } : {}),
      signal: opts.signal,
      stopOnAbortSignal: true,
      onResponseChunk: (chunk) => {
        // Segments (a reasoning model's thoughts) are not part of the reply.
        if (chunk.type !== undefined) return;
        text += chunk.text;
        opts.onText(chunk.text, chunk.tokens);
      },
      contextShift: {
        // The prompt was measured to fit and maxTokens leaves room; if the context still fills,
        // fail rather than silently drop part of the conversation.
        strategy: () => {
          throw new PromptTooLongError(prepared.tokens.length, this.contextSize);
        },
      },
    });
    const used = slot.sequence.tokenMeter.diff(before);
    const stopReason = res.metadata.stopReason;
    return {
      text: res.response || text,
      promptTokens: prepared.tokens.length,
      completionTokens: used.usedOutputTokens,
      finishReason: stopReason === "maxTokens" ? "length" : "stop",
      aborted: stopReason === "abort",
    };
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** The GGUF's own template when it has one; otherwise the configured format, never a guess from the file name. */
function chooseTemplate(model: LlamaModel, fallback: WorkerConfig["fallbackTemplate"]): { wrapper: ChatWrapper; template: TemplateInfo } {
  const own = model.fileInfo.metadata.tokenizer?.chat_template;
  if (typeof own === "string" && own.trim() !== "") {
    const wrapper = resolveChatWrapper(model, { type: "auto", fallbackToOtherWrappersOnJinjaError: false, warningLogs: false });
    return { wrapper, template: { source: "model", name: wrapper.wrapperName } };
  }
  const wrapper = new chatWrappers[fallback]();
  return { wrapper, template: { source: "fallback", name: fallback } };
}
