-- roles: the PostgreSQL roles of a credsync deployment and what each may do. Not a migration
-- (credsyncd applies only NNN_name.sql files): the DBA runs it, as a superuser, in credsync's
-- database, before the first start and again whenever it changes:
--   psql -v ON_ERROR_STOP=1 -d credsync -f /usr/local/share/credsync/sql/roles.sql
-- It can be run any number of times, before or after migrations.
--
--   credsync_owner  owns schema credsync and everything in it: applies the migrations
--                   (credsyncd connected as it applies them at start).
--   credsync_app    what a running credsyncd needs: reads and writes its tables (never
--                   DELETE: credsync keeps everything; its bookkeeping deletes run in
--                   functions owned by credsync_owner), calls its functions, reads
--                   schema_migrations; no DDL. A credsyncd connected as it starts only when
--                   every migration is applied already.
--
-- Neither role gets a password here: set one (ALTER ROLE ... PASSWORD), or use peer or
-- certificate authentication, in pg_hba.conf.

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'credsync_owner') THEN
		CREATE ROLE credsync_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'credsync_app') THEN
		CREATE ROLE credsync_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
	END IF;
	EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO credsync_owner, credsync_app',
		       current_database());
END
$$;

CREATE SCHEMA IF NOT EXISTS credsync AUTHORIZATION credsync_owner;
ALTER SCHEMA credsync OWNER TO credsync_owner;
REVOKE ALL ON SCHEMA credsync FROM PUBLIC;
GRANT USAGE ON SCHEMA credsync TO credsync_app;

-- The same definition as store_migrate (daemon/store_migrate.c), which creates it when
-- missing. Created here so that it is the owner's and the app's only to read.
CREATE TABLE IF NOT EXISTS credsync.schema_migrations (
	version integer PRIMARY KEY,
	name text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);

-- Objects created by another role (migrations applied as a superuser) pass to the owner.
-- Indexes and sequences owned by a column follow their table.
DO $$
DECLARE
	obj record;
BEGIN
	FOR obj IN
		SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
				      WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
				      ELSE 'TABLE' END AS kind,
		       c.oid::pg_catalog.regclass::text AS name
		  FROM pg_catalog.pg_class c
		 WHERE c.relnamespace = 'credsync'::pg_catalog.regnamespace
		   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		   AND c.relowner <> 'credsync_owner'::pg_catalog.regrole
		   AND (c.relkind <> 'S' OR NOT EXISTS (
			SELECT FROM pg_catalog.pg_depend d
			 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
			   AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO credsync_owner', obj.kind, obj.name);
	END LOOP;
	FOR obj IN
		SELECT p.oid::pg_catalog.regprocedure::text AS name
		  FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = 'credsync'::pg_catalog.regnamespace
		   AND p.proowner <> 'credsync_owner'::pg_catalog.regrole
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO credsync_owner', obj.name);
	END LOOP;
	FOR obj IN
		SELECT t.oid::pg_catalog.regtype::text AS name
		  FROM pg_catalog.pg_type t
		 WHERE t.typnamespace = 'credsync'::pg_catalog.regnamespace
		   AND t.typtype IN ('e', 'd')
		   AND t.typowner <> 'credsync_owner'::pg_catalog.regrole
	LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO credsync_owner', obj.name);
	END LOOP;
END
$$;

-- What exists now. Rights granted earlier and no longer wanted go first.
REVOKE ALL ON ALL TABLES IN SCHEMA credsync FROM PUBLIC, credsync_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA credsync FROM PUBLIC, credsync_app;
REVOKE ALL ON ALL ROUTINES IN SCHEMA credsync FROM PUBLIC, credsync_app;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA credsync TO credsync_app;
REVOKE INSERT, UPDATE ON credsync.schema_migrations FROM credsync_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA credsync TO credsync_app;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA credsync TO credsync_app;

-- What later migrations create, when the owner applies them. Applied by another role, they
-- need this script run again.
ALTER DEFAULT PRIVILEGES FOR ROLE credsync_owner IN SCHEMA credsync
	GRANT SELECT, INSERT, UPDATE ON TABLES TO credsync_app;
ALTER DEFAULT PRIVILEGES FOR ROLE credsync_owner IN SCHEMA credsync
	GRANT USAGE ON SEQUENCES TO credsync_app;
ALTER DEFAULT PRIVILEGES FOR ROLE credsync_owner IN SCHEMA credsync
	GRANT EXECUTE ON ROUTINES TO credsync_app;
ALTER DEFAULT PRIVILEGES FOR ROLE credsync_owner REVOKE EXECUTE ON ROUTINES FROM PUBLIC;
