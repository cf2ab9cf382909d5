import { z } from "zod";

/**
 * Practice scenarios that teach: objectives shown to the person, a private rubric per objective
 * (what met, partly met and not met look like: sent to the evaluating model, never to a browser),
 * an optional turn limit and a difficulty; and the debrief a finished conversation gets.
 */

export const DIFFICULTIES = ["easy", "medium", "hard"] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export const RATINGS = ["met", "partly", "not_met"] as const;
export type ObjectiveRating = (typeof RATINGS)[number];

export const MAX_OBJECTIVES = 8;

/** One objective's rubric: private, like a system prompt. */
export const rubricSchema = z.object({
  met: z.string().trim().min(1, "Say what meeting it looks like").max(1000),
  partly: z.string().trim().min(1, "Say what partly meeting it looks like").max(1000),
  notMet: z.string().trim().min(1, "Say what missing it looks like").max(1000),
});
export type Rubric = z.infer<typeof rubricSchema>;

/** The evaluating model's answer, as Parley asks for it (jsonSchemaForDebrief) and checks it. */
export const debriefAnswerSchema = (objectives: number) =>
  z.object({
    objectives: z
      .array(
        z.object({
          objective: z.number().int().min(1).max(objectives),
          rating: z.enum(RATINGS),
          evidence: z.array(z.string().trim().min(1)).max(3),
          comment: z.string().trim().max(600),
        }),
      )
      .length(objectives, `one rating per objective (${objectives})`),
    score: z.number().int().min(0).max(100),
    strengths: z.array(z.string().trim().min(1)).min(2).max(3),
    tryNext: z.string().trim().min(1),
    weakest: z.object({ quote: z.string().trim().min(1), better: z.string().trim().min(1) }),
  });
export type DebriefAnswer = z.infer<ReturnType<typeof debriefAnswerSchema>>;

/**
 * The same shape as a JSON Schema for `response_format`: what OpenRouter passes to models that
 * take it, and what Parley's local worker turns into a grammar. Bounded (item counts, string
 * lengths, a score from a list) so even a tiny model finishes its answer within its tokens.
 */
export function jsonSchemaForDebrief(objectives: number) {
  const text = (maxLength: number) => ({ type: "string", maxLength }) as const;
  return {
    type: "object",
    properties: {
      objectives: {
        type: "array",
        minItems: objectives,
        maxItems: objectives,
        items: {
          type: "object",
          properties: {
            objective: { enum: Array.from({ length: objectives }, (_, i) => i + 1) },
            rating: { enum: [...RATINGS] },
            evidence: { type: "array", maxItems: 2, items: text(160) },
            comment: text(200),
          },
          required: ["objective", "rating", "evidence", "comment"],
          additionalProperties: false,
        },
      },
      score: { enum: Array.from({ length: 101 }, (_, i) => i) },
      strengths: { type: "array", minItems: 2, maxItems: 3, items: text(160) },
      tryNext: text(240),
      weakest: {
        type: "object",
        properties: { quote: text(240), better: text(300) },
        required: ["quote", "better"],
        additionalProperties: false,
      },
    },
    required: ["objectives", "score", "strengths", "tryNext", "weakest"],
    additionalProperties: false,
  };
}

/** A debrief as stored and shown: each quote checked against the person's messages, and linked to one. */
export type DebriefView = {
  id: string;
  createdAt: Date;
  score: number;
  objectives: {
    objective: string;
    rating: ObjectiveRating;
    evidence: { quote: string; messageId: string }[];
    comment: string;
  }[];
  strengths: string[];
  tryNext: string;
  weakest: { quote: string; messageId: string; better: string };
  model: string;
};

/** The person's attempts at a scenario: a score per debriefed conversation, oldest first, and what they miss most. */
export type ProgressView = {
  attempts: { sessionId: string; debriefId: string; createdAt: Date; score: number }[];
  mostMissed: { objective: string; missed: number } | null;
};
