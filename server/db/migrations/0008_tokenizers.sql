ALTER TABLE "api_models" ADD COLUMN "tokenizer" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "token_counts" jsonb DEFAULT '{}'::jsonb NOT NULL;