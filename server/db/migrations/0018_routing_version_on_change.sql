-- The routing version moves only when routing rows change. The statement triggers of 0001 and 0014
-- fired for every statement, whether it touched rows or not: each start's seed (inserts that meet
-- their rows and do nothing) moved the version, and every instance reloaded its registry for it.
-- Each event now has a trigger of its own that sees the rows its statement changed (a transition
-- table, one name for all) and moves the version only when there are any. TRUNCATE has no rows to
-- show and always counts.
CREATE FUNCTION "parley_bump_registry_version"() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v bigint;
BEGIN
	INSERT INTO "system_config" ("key", "value", "updated_at") VALUES ('registry_version', '1'::jsonb, now())
	ON CONFLICT ("key") DO UPDATE SET "value" = to_jsonb(("system_config"."value")::text::bigint + 1), "updated_at" = now()
	RETURNING ("value")::text::bigint INTO v;
	PERFORM pg_notify('parley_registry', v::text);
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "parley_registry_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM "parley_bump_registry_version"();
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE FUNCTION "parley_registry_rows_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM "changed_rows") THEN
		PERFORM "parley_bump_registry_version"();
	END IF;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP TRIGGER "api_providers_registry_changed" ON "api_providers";
--> statement-breakpoint
DROP TRIGGER "api_models_registry_changed" ON "api_models";
--> statement-breakpoint
DROP TRIGGER "task_profiles_registry_changed" ON "task_profiles";
--> statement-breakpoint
DROP TRIGGER "api_keys_registry_changed" ON "api_keys";
--> statement-breakpoint
CREATE TRIGGER "api_providers_registry_inserted" AFTER INSERT ON "api_providers"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_providers_registry_updated" AFTER UPDATE ON "api_providers"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_providers_registry_deleted" AFTER DELETE ON "api_providers"
	REFERENCING OLD TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_providers_registry_truncated" AFTER TRUNCATE ON "api_providers"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_models_registry_inserted" AFTER INSERT ON "api_models"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_models_registry_updated" AFTER UPDATE ON "api_models"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_models_registry_deleted" AFTER DELETE ON "api_models"
	REFERENCING OLD TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_models_registry_truncated" AFTER TRUNCATE ON "api_models"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
--> statement-breakpoint
CREATE TRIGGER "task_profiles_registry_inserted" AFTER INSERT ON "task_profiles"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "task_profiles_registry_updated" AFTER UPDATE ON "task_profiles"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "task_profiles_registry_deleted" AFTER DELETE ON "task_profiles"
	REFERENCING OLD TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "task_profiles_registry_truncated" AFTER TRUNCATE ON "task_profiles"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_keys_registry_inserted" AFTER INSERT ON "api_keys"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_keys_registry_updated" AFTER UPDATE ON "api_keys"
	REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_keys_registry_deleted" AFTER DELETE ON "api_keys"
	REFERENCING OLD TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"();
--> statement-breakpoint
CREATE TRIGGER "api_keys_registry_truncated" AFTER TRUNCATE ON "api_keys"
	FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"();
