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
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['api_providers', 'api_models', 'task_profiles', 'api_keys'] LOOP
		EXECUTE format('DROP TRIGGER %I ON %I', t || '_registry_changed', t);
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"()', t || '_registry_inserted', t);
		EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"()', t || '_registry_updated', t);
		EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS "changed_rows" FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_rows_changed"()', t || '_registry_deleted', t);
		EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION "parley_registry_changed"()', t || '_registry_truncated', t);
	END LOOP;
END;
$$;
