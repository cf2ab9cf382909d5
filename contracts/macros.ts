/**
 * SillyTavern's name macros, as character cards and role-play prompts use them: `{{user}}` is the
 * person (their persona's name), `{{char}}` the character; the older `<USER>`, `<BOT>` and `<CHAR>`
 * spellings too. Case-insensitive, as SillyTavern reads them. Shared by the server (the prompt) and
 * the web app (what the person sees), so both read the same text.
 */
export type MacroNames = { user: string; char: string };

const MACRO = /\{\{\s*(user|char)\s*\}\}|<(user|bot|char)>/gi;

export function resolveMacros(text: string, names: MacroNames): string {
  // Most messages hold no macro: a plain search is ~5× cheaper than running the pattern, and a
  // long story's prompt resolves a couple of thousand messages on every reply.
  if (!text.includes("{{") && !text.includes("<")) return text;
  return text.replace(MACRO, (_, curly: string | undefined, angle: string | undefined) =>
    (curly ?? angle)!.toLowerCase() === "user" ? names.user : names.char,
  );
}

/** The name `{{user}}` stands for when the person has not set a persona. */
export const DEFAULT_PERSONA_NAME = "User";
