CREATE TABLE "debriefs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" uuid NOT NULL,
	"leaf_id" uuid,
	"score" integer NOT NULL,
	"result" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "scenarios" ADD COLUMN "objectives" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "scenarios" ADD COLUMN "rubrics" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "scenarios" ADD COLUMN "turn_limit" integer;--> statement-breakpoint
ALTER TABLE "scenarios" ADD COLUMN "difficulty" text;--> statement-breakpoint
ALTER TABLE "debriefs" ADD CONSTRAINT "debriefs_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "debriefs_session_idx" ON "debriefs" USING btree ("session_id","created_at");--> statement-breakpoint
-- Two tasks for practice: a coach's hint (short, a little lively) and a debrief (steady, long enough
-- for the structured answer). Rows like the others, editable in the dashboard.
INSERT INTO "task_profiles" ("task", "description", "temperature", "max_tokens", "top_p") VALUES
	('coach', 'A hint for the person''s next message in a practice conversation', 0.6, 160, 0.9),
	('evaluate', 'The debrief of a finished practice conversation, as JSON', 0.2, 1500, 0.9)
ON CONFLICT ("task") DO NOTHING;
