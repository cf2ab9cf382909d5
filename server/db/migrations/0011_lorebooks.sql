CREATE TABLE "lorebooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_client_id" text,
	"name" text NOT NULL,
	"book" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reply_prompts" (
	"message_id" uuid PRIMARY KEY NOT NULL,
	"report" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scenario_lorebooks" (
	"scenario_id" uuid NOT NULL,
	"lorebook_id" uuid NOT NULL,
	"embedded" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scenario_lorebooks_scenario_id_lorebook_id_pk" PRIMARY KEY("scenario_id","lorebook_id")
);
--> statement-breakpoint
ALTER TABLE "character_images" ADD COLUMN "thumb" "bytea";--> statement-breakpoint
ALTER TABLE "reply_prompts" ADD CONSTRAINT "reply_prompts_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scenario_lorebooks" ADD CONSTRAINT "scenario_lorebooks_scenario_id_scenarios_id_fk" FOREIGN KEY ("scenario_id") REFERENCES "public"."scenarios"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scenario_lorebooks" ADD CONSTRAINT "scenario_lorebooks_lorebook_id_lorebooks_id_fk" FOREIGN KEY ("lorebook_id") REFERENCES "public"."lorebooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lorebooks_owner_idx" ON "lorebooks" USING btree ("owner_client_id");--> statement-breakpoint
CREATE INDEX "scenario_lorebooks_book_idx" ON "scenario_lorebooks" USING btree ("lorebook_id");--> statement-breakpoint
-- A card's own lorebook moves out of its card into a row of its own (the same id as its character,
-- attached as the card's embedded book), where it can be edited and attached elsewhere; the card's
-- export puts it back. Nothing is dropped: the book moves whole.
INSERT INTO "lorebooks" ("id", "owner_client_id", "name", "book")
SELECT "id", "owner_client_id", coalesce(nullif(trim("card"->'data'->'character_book'->>'name'), ''), "card"->'data'->>'name'), "card"->'data'->'character_book'
FROM "scenarios" WHERE jsonb_typeof("card"->'data'->'character_book') = 'object';--> statement-breakpoint
INSERT INTO "scenario_lorebooks" ("scenario_id", "lorebook_id", "embedded")
SELECT "id", "id", true FROM "scenarios" WHERE jsonb_typeof("card"->'data'->'character_book') = 'object';--> statement-breakpoint
UPDATE "scenarios" SET "card" = "card" #- '{data,character_book}' WHERE jsonb_typeof("card"->'data'->'character_book') = 'object';
