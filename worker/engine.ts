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
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config.js";
import type { ChatRole } from "../contracts/enums.js";

export type ChatTurn = { role: ChatRole; content: string };

export type GenerateParams = {
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

export type TemplateInfo = { source: "model" | "fallback"; name: string };

/**
 * The model, its context (one sequence per slot) and the chat template. node-llama-cpp is used with
 * prebuilt binaries only: `build: "never"` means a missing binary is an error, never a compile.
 */
export class Engine {
  private constructor(
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
    return new Engine(modelId, model, context, wrapper, template, slots);
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
