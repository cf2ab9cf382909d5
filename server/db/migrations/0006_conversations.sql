ALTER TABLE "messages" ADD COLUMN "context_from_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "last_leaf_id" uuid;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "title" text;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "deleted_at" timestamp with time zone;