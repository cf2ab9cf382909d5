import type { CharacterDefinitionView, LorebookSummaryView, LorebookView } from "../../../contracts/api-views";
import type { CardLorebook, CharacterEdit } from "../../../contracts/character-card";
import type { PromptReportView } from "../../../contracts/prompt-report";
import type { Json } from "./client";

export type CharacterDefinition = Json<CharacterDefinitionView>;
export type LorebookSummary = Json<LorebookSummaryView>;
export type Lorebook = Json<LorebookView>;
export type PromptReport = Json<PromptReportView>;
export type { CardLorebook };

/** How a request goes out: the person's (their cookie) or the admin's (session cookie and CSRF token). */
export type Send = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * Characters and lorebooks as their owner edits them: the same calls for a person (`/api`: their
 * own) and an admin (`/api/admin`: the gallery's), told apart by `send` and `base`.
 */
export function characterBackend(send: Send, base: "/api" | "/api/admin") {
  const slugPath = (slug: string) => `/characters/${encodeURIComponent(slug)}`;
  const bookPath = (id: string) => `/lorebooks/${encodeURIComponent(id)}`;
  return {
    definition: (slug: string) => send<{ character: CharacterDefinition }>("GET", slugPath(slug)),
    edit: (slug: string, changes: CharacterEdit) => send<{ character: CharacterDefinition }>("PATCH", slugPath(slug), changes),
    lorebooks: () => send<{ lorebooks: LorebookSummary[] }>("GET", "/lorebooks"),
    lorebook: (id: string) => send<{ lorebook: Lorebook }>("GET", bookPath(id)),
    /** A lorebook file's JSON (World Info, lorebook_v3, a card's book, or a card). */
    importLorebook: (json: unknown, fileName: string) =>
      send<{ lorebook: Lorebook }>("POST", `/lorebooks?name=${encodeURIComponent(fileName)}`, json),
    saveLorebook: (id: string, name: string, book: CardLorebook) => send<{ lorebook: Lorebook }>("PUT", bookPath(id), { name, book }),
    deleteLorebook: (id: string) => send<null>("DELETE", bookPath(id)),
    attach: (id: string, slug: string) => send<{ lorebook: Lorebook }>("PUT", `${bookPath(id)}/characters/${encodeURIComponent(slug)}`),
    detach: (id: string, slug: string) => send<{ lorebook: Lorebook }>("DELETE", `${bookPath(id)}/characters/${encodeURIComponent(slug)}`),
    exportUrl: (slug: string, format: "png" | "json" | "charx") => `${base}${slugPath(slug)}/export?format=${format}`,
    lorebookExportUrl: (id: string) => `${base}${bookPath(id)}/export`,
  };
}

export type CharacterBackend = ReturnType<typeof characterBackend>;
