ALTER TABLE "api_models" ADD COLUMN "accepts_images" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "request_log" ADD COLUMN "cached_tokens" integer;--> statement-breakpoint
ALTER TABLE "request_log" ADD COLUMN "cache_write_tokens" integer;--> statement-breakpoint
ALTER TABLE "request_log" ADD COLUMN "reasoning_tokens" integer;--> statement-breakpoint
ALTER TABLE "request_log" ADD COLUMN "generation_id" text;--> statement-breakpoint
-- The models Parley seeds read images (Claude 3 Haiku and 3.5 Sonnet); any other row says so when an admin ticks it.
UPDATE "api_models" SET "accepts_images" = true WHERE "model_key" IN ('anthropic/claude-3-haiku', 'anthropic/claude-3.5-sonnet');
