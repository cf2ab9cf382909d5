ALTER TABLE "scenarios" ADD COLUMN "owner_client_id" text;--> statement-breakpoint
ALTER TABLE "scenarios" ADD COLUMN "card" jsonb;--> statement-breakpoint
ALTER TABLE "scenarios" ADD COLUMN "card_hash" text;--> statement-breakpoint
CREATE INDEX "scenarios_owner_card_idx" ON "scenarios" USING btree ("owner_client_id","card_hash");