CREATE TABLE "character_assets" (
	"scenario_id" uuid NOT NULL,
	"path" text NOT NULL,
	"bytes" "bytea" NOT NULL,
	CONSTRAINT "character_assets_scenario_id_path_pk" PRIMARY KEY("scenario_id","path")
);
--> statement-breakpoint
ALTER TABLE "character_assets" ADD CONSTRAINT "character_assets_scenario_id_scenarios_id_fk" FOREIGN KEY ("scenario_id") REFERENCES "public"."scenarios"("id") ON DELETE cascade ON UPDATE no action;