package sqlite

// migrations is the ordered list of schema steps; migrations[i] brings the
// schema from version i to version i+1. Steps are append-only: never edit a
// released step, add a new one. Opening a database applies the missing steps
// in one transaction and records each in schema_migrations.
var migrations = []string{
	// 1: key-value entities, the audit record, installation metadata.
	`
CREATE TABLE kv (
	tbl TEXT NOT NULL,
	k   TEXT NOT NULL,
	v   BLOB NOT NULL,
	PRIMARY KEY (tbl, k)
) WITHOUT ROWID;

CREATE TABLE audit (
	seq      INTEGER PRIMARY KEY,  -- rowid alias; AUTOINCREMENT not needed: rows are never deleted below the max
	time     INTEGER NOT NULL,     -- unix nanoseconds, UTC
	account  TEXT NOT NULL,
	region   TEXT NOT NULL,
	event_id TEXT NOT NULL,
	body     BLOB NOT NULL
);
-- account (+ implicit seq): LookupEvents for one account in sequence order.
-- The only index: every index is another page written by each commit on the
-- hot path; time ranges and event ids within an account are filtered on it.
CREATE INDEX audit_account ON audit(account);

CREATE TABLE meta (
	k TEXT PRIMARY KEY,
	v TEXT NOT NULL
) WITHOUT ROWID;
`,
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`

// Keys of the meta table.
const (
	metaInstallationID = "installation_id"
	metaSchemaVersion  = "schema_version"
)
