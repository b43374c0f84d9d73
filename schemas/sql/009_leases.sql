-- 009_leases: issue 14 item 5. Leases instead of session advisory locks for instances that
-- reach PostgreSQL through a transaction pooler (pg.pooling = transaction), where a session's
-- lock would stay behind on a pooled server connection. One row per lease: its holder (a
-- store's name, host/pid/start/n) and when it ends unless renewed (store_lease.c). The only
-- lease so far is 'outbox': the one instance that publishes.

CREATE TABLE credsync.leases (
	name text PRIMARY KEY,
	owner text NOT NULL,
	expires_at timestamptz NOT NULL
);
