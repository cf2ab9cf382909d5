CREATE TABLE "api_key_minutes" (
	"key_id" uuid NOT NULL,
	"minute" bigint NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"tokens" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "api_key_minutes_key_id_minute_pk" PRIMARY KEY("key_id","minute")
);
--> statement-breakpoint
CREATE TABLE "api_key_spend" (
	"key_id" uuid NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"tokens" bigint DEFAULT 0 NOT NULL,
	"last_used_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_key_spend_key_id_period_start_pk" PRIMARY KEY("key_id","period_start")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"secret_hash" text NOT NULL,
	"owner_note" text DEFAULT '' NOT NULL,
	"allowed_tasks" text[] DEFAULT '{}'::text[] NOT NULL,
	"allowed_models" text[] DEFAULT '{}'::text[] NOT NULL,
	"rpm" integer,
	"tpm" integer,
	"budget_usd" double precision,
	"budget_period" text DEFAULT 'monthly' NOT NULL,
	"expires_at" timestamp with time zone,
	"enabled" boolean DEFAULT true NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_keys_name_unique" UNIQUE("name"),
	CONSTRAINT "api_keys_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
ALTER TABLE "request_log" ADD COLUMN "api_key_id" uuid;--> statement-breakpoint
ALTER TABLE "api_key_minutes" ADD CONSTRAINT "api_key_minutes_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_key_spend" ADD CONSTRAINT "api_key_spend_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "request_log_key_idx" ON "request_log" USING btree ("api_key_id","created_at");--> statement-breakpoint
-- Keys are read from memory on every /v1 request: a change reaches every instance like a routing change.
CREATE TRIGGER "api_keys_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "api_keys"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
