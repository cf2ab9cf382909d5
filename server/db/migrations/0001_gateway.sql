CREATE TABLE "task_profiles" (
	"task" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"temperature" double precision NOT NULL,
	"max_tokens" integer NOT NULL,
	"top_p" double precision NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_models" ADD COLUMN "param_overrides" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "api_providers" ADD COLUMN "connect_timeout_ms" integer;--> statement-breakpoint
ALTER TABLE "api_providers" ADD COLUMN "first_byte_timeout_ms" integer;--> statement-breakpoint
ALTER TABLE "api_providers" ADD COLUMN "idle_timeout_ms" integer;--> statement-breakpoint
CREATE INDEX "request_log_session_idx" ON "request_log" USING btree ("session_id");--> statement-breakpoint
-- Task profiles are data, from role-play practice: lively for characters, steadier for rewriting.
INSERT INTO "task_profiles" ("task", "description", "temperature", "max_tokens", "top_p") VALUES
	('roleplay', 'A character''s reply in a scenario', 0.9, 400, 0.95),
	('enhance', 'Rewriting a draft message before it is sent', 0.5, 200, 0.9)
ON CONFLICT ("task") DO NOTHING;
--> statement-breakpoint
-- Every change to routing data bumps a version and notifies listeners, so each instance reloads
-- its in-memory registry: at once through LISTEN on Postgres, within a poll interval otherwise.
CREATE FUNCTION "parley_registry_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v bigint;
BEGIN
	INSERT INTO "system_config" ("key", "value", "updated_at") VALUES ('registry_version', '1'::jsonb, now())
	ON CONFLICT ("key") DO UPDATE SET "value" = to_jsonb(("system_config"."value")::text::bigint + 1), "updated_at" = now()
	RETURNING ("value")::text::bigint INTO v;
	PERFORM pg_notify('parley_registry', v::text);
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "api_providers_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "api_providers"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_models_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "api_models"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
--> statement-breakpoint
CREATE TRIGGER "task_profiles_registry_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "task_profiles"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
