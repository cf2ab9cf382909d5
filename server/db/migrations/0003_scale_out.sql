CREATE TABLE "instances" (
	"id" text PRIMARY KEY NOT NULL,
	"registry_version" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "replying_until" timestamp with time zone;