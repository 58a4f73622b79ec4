package postgres

// migrations is the ordered list of schema steps; migrations[i] brings the
// schema from version i to version i+1. Steps are append-only: never edit a
// released step, add a new one. Open applies the missing steps in one
// transaction (PostgreSQL DDL is transactional) under an advisory lock, and
// records each in schema_migrations.
var migrations = []string{
	// 1: key-value entities, the audit record, installation metadata.
	`
CREATE TABLE kv (
	-- COLLATE "C": keys order bytewise (memcmp), as on SQLite, and range
	-- scans over the primary key need no locale.
	tbl text COLLATE "C" NOT NULL,
	k   text COLLATE "C" NOT NULL,
	v   bytea NOT NULL,
	PRIMARY KEY (tbl, k)
);

CREATE TABLE audit (
	seq      bigserial PRIMARY KEY,
	time     bigint NOT NULL,     -- unix nanoseconds, UTC (timestamptz would round to microseconds)
	account  text NOT NULL,
	region   text NOT NULL,
	event_id text NOT NULL,
	body     bytea NOT NULL
);
-- LookupEvents for one account in sequence order.
CREATE INDEX audit_account ON audit (account, seq);
-- Time-range queries across accounts.
CREATE INDEX audit_time ON audit (time, seq);
CREATE INDEX audit_event_id ON audit (event_id);

CREATE TABLE meta (
	k text PRIMARY KEY,
	v text NOT NULL
);
`,
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Keys of the meta table.
const (
	metaInstallationID = "installation_id"
	metaSchemaVersion  = "schema_version"
)
