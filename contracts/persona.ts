import { z } from "zod";

/**
 * Who the person is in their conversations: a name (what `{{user}}` becomes) and a short
 * description the character is told. Set once for the browser; a conversation may have its own.
 */
export const personaSchema = z.object({
  name: z.string().trim().min(1, "A name is needed").max(60, "A name is at most 60 characters"),
  description: z.string().trim().max(2000, "A description is at most 2,000 characters").default(""),
});

export type Persona = z.infer<typeof personaSchema>;
