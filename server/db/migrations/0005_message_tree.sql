ALTER TABLE "messages" ADD COLUMN "parent_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "edited_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "leaf_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_parent_id_messages_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_leaf_id_messages_id_fk" FOREIGN KEY ("leaf_id") REFERENCES "public"."messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "messages_parent_idx" ON "messages" USING btree ("parent_id");--> statement-breakpoint
-- Existing conversations: the visible thread becomes a chain, each message following the visible one before it.
WITH "active" AS (
  SELECT "id", lag("id") OVER (PARTITION BY "session_id" ORDER BY "seq") AS "prev"
  FROM "messages" WHERE "superseded_at" IS NULL
)
UPDATE "messages" SET "parent_id" = "active"."prev" FROM "active" WHERE "messages"."id" = "active"."id" AND "active"."prev" IS NOT NULL;--> statement-breakpoint
-- A reply that a regenerate replaced becomes a sibling of its replacement: it follows the visible message before it.
UPDATE "messages" SET "parent_id" = (
  SELECT "p"."id" FROM "messages" "p"
  WHERE "p"."session_id" = "messages"."session_id" AND "p"."superseded_at" IS NULL AND "p"."seq" < "messages"."seq"
  ORDER BY "p"."seq" DESC LIMIT 1
) WHERE "superseded_at" IS NOT NULL;--> statement-breakpoint
-- Each session's active path ends at its last visible message.
UPDATE "sessions" SET "leaf_id" = "last"."id" FROM (
  SELECT DISTINCT ON ("session_id") "session_id", "id" FROM "messages" WHERE "superseded_at" IS NULL ORDER BY "session_id", "seq" DESC
) "last" WHERE "last"."session_id" = "sessions"."id";
