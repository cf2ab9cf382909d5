import type { ChatMessage } from "../gateway/types.js";

type HistoryMessage = { role: "user" | "assistant"; content: string };

/**
 * The model's view of a conversation: the scenario's private system prompt, then the visible
 * history (the character's opening line included), oldest first. Empty turns (a reply cut off
 * before any text) carry nothing and are left out.
 */
export function buildPrompt(systemPrompt: string, history: HistoryMessage[]): ChatMessage[] {
  return [
    { role: "system", content: systemPrompt },
    ...history.filter((m) => m.content.trim() !== "").map((m) => ({ role: m.role, content: m.content })),
  ];
}
