ALTER TABLE "api_models" ADD COLUMN "weight" integer;--> statement-breakpoint
ALTER TABLE "api_providers" ADD COLUMN "failover_rules" jsonb DEFAULT '{}'::jsonb NOT NULL;