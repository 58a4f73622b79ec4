package secretsmanager_test

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The PostgreSQL server of the test machine (.ci/run starts one): trust
// authentication on 127.0.0.1, database "test", except for members of the
// group role rampart_password_auth, whose logins need their password
// (.ci/run adds the pg_hba.conf lines). The tests make the rotated roles
// members, so that they can prove an old password no longer logs in, and
// also check what the server stores: pg_authid's SCRAM verifier must match
// the new password and not the old one.
func pgAdmin(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL: %v", err)
		}
		t.Skipf("no PostgreSQL at 127.0.0.1:5432: %v", err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// scramMatches reports whether PostgreSQL's verifier is that of password.
func scramMatches(t *testing.T, verifier, password string) bool {
	t.Helper()
	rest, ok := strings.CutPrefix(verifier, "SCRAM-SHA-256$")
	if !ok {
		t.Fatalf("not a SCRAM verifier: %.20q…", verifier)
	}
	iterSalt, keys, _ := strings.Cut(rest, "$")
	iterS, saltS, _ := strings.Cut(iterSalt, ":")
	storedS, _, _ := strings.Cut(keys, ":")
	iter, _ := strconv.Atoi(iterS)
	salt, _ := base64.StdEncoding.DecodeString(saltS)
	stored, _ := base64.StdEncoding.DecodeString(storedS)
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, salted)
	h.Write([]byte("Client Key"))
	sum := sha256.Sum256(h.Sum(nil))
	return hmac.Equal(sum[:], stored)
}

func rolpassword(t *testing.T, admin *pgx.Conn, role string) string {
	t.Helper()
	var v *string
	if err := admin.QueryRow(context.Background(), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&v); err != nil {
		t.Fatalf("role %s: %v", role, err)
	}
	if v == nil {
		t.Fatalf("role %s has no password", role)
	}
	return *v
}

func newRole(t *testing.T, admin *pgx.Conn, password string) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 4)
	rand.Read(b)
	role := "rampart_rot_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "SET password_encryption = 'scram-sha-256'"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE ROLE "+role+" WITH LOGIN PASSWORD '"+password+"'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP ROLE IF EXISTS "+role+"_clone")
		admin.Exec(ctx, "DROP ROLE IF EXISTS "+role)
	})
	return role
}

// requirePasswords makes role a member of rampart_password_auth, so that
// its logins need its password, and checks that they do. Where the group
// role or its pg_hba.conf line is missing the test fails in CI (.ci/run
// sets both up) and is skipped elsewhere.
func requirePasswords(t *testing.T, admin *pgx.Conn, role, password string) {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		const how = "run the PostgreSQL part of .ci/run: it creates the group role rampart_password_auth and adds `host all +rampart_password_auth 127.0.0.1/32 scram-sha-256` before the first host line of pg_hba.conf"
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; %s", why, how)
		}
		t.Skipf("%s; %s", why, how)
	}
	ctx := context.Background()
	if _, err := admin.Exec(ctx, "GRANT rampart_password_auth TO "+pgx.Identifier{role}.Sanitize()); err != nil {
		missing(fmt.Sprintf("cannot make %s a member of rampart_password_auth: %v", role, err))
	}
	if err := pgLogin(role, "not-"+password); pgSQLState(err) != "28P01" {
		missing(fmt.Sprintf("a wrong password for %s did not fail with 28P01 (got %v): pg_hba.conf does not ask rampart_password_auth's members for passwords", role, err))
	}
	if err := pgLogin(role, password); err != nil {
		t.Fatalf("%s cannot log in with its password: %v", role, err)
	}
}

// pgLogin logs in to the test database as role with password, and out.
func pgLogin(role, password string) error {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig("host=127.0.0.1 port=5432 dbname=test sslmode=disable connect_timeout=3")
	if err != nil {
		return err
	}
	cfg.User, cfg.Password = role, password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	var one int
	err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	conn.Close(ctx)
	return err
}

// pgSQLState returns the SQLSTATE of a PostgreSQL error, or "".
func pgSQLState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wantLogin checks that role logs in with password, or, when bad, that it
// is refused for a wrong password (SQLSTATE 28P01, invalid_password).
func wantLogin(t *testing.T, role, password string, bad bool) {
	t.Helper()
	err := pgLogin(role, password)
	switch {
	case !bad && err != nil:
		t.Fatalf("%s cannot log in with its new password: %v", role, err)
	case bad && pgSQLState(err) != "28P01":
		t.Fatalf("%s with its old password: %v, want SQLSTATE 28P01", role, err)
	}
}

func dbJSON(t *testing.T, user, password, master string) string {
	m := map[string]any{"engine": "postgres", "host": "127.0.0.1", "port": 5432, "dbname": "test", "username": user, "password": password}
	if master != "" {
		m["masterarn"] = master
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func creds(t *testing.T, c *sm.Client, id, stage string) map[string]any {
	t.Helper()
	v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)}))
	var m map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(v.SecretString)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPostgresSingleUserRotation(t *testing.T) {
	admin := pgAdmin(t)
	e := start(t)
	c := e.root()
	ctx := context.Background()
	const old = "Old-Passw0rd-for-rotation"
	role := newRole(t, admin, old)
	requirePasswords(t, admin, role, old)
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db/app"), SecretString: aws.String(dbJSON(t, role, old, ""))}))
	if !scramMatches(t, rolpassword(t, admin, role), old) {
		t.Fatal("setup: the role's verifier does not match its password")
	}
	r := must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db/app"),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:SecretsManagerRDSPostgreSQLRotationSingleUser")}))
	waitRotated(t, c, "db/app", aws.ToString(r.VersionId))
	cur, prev := creds(t, c, "db/app", "AWSCURRENT"), creds(t, c, "db/app", "AWSPREVIOUS")
	newPW, _ := cur["password"].(string)
	if cur["username"] != role || newPW == old || len(newPW) != 32 || prev["password"] != old || cur["dbname"] != "test" || cur["port"] != float64(5432) {
		t.Fatalf("after rotation: current %v, previous %v", cur["username"], prev["username"])
	}
	v := rolpassword(t, admin, role)
	if !scramMatches(t, v, newPW) || scramMatches(t, v, old) {
		t.Fatal("the server's password is not the new one")
	}
	// The new password logs in and queries; the old one, which
	// AWSPREVIOUS still holds, is refused.
	wantLogin(t, role, newPW, false)
	wantLogin(t, role, old, true)
}

func TestPostgresAlternatingUsersRotation(t *testing.T) {
	admin := pgAdmin(t)
	e := start(t)
	c := e.root()
	ctx := context.Background()
	const old = "Old-Passw0rd-alternating"
	role := newRole(t, admin, old)
	requirePasswords(t, admin, role, old)
	master := must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db/master"), SecretString: aws.String(dbJSON(t, "postgres", "unused-with-trust", ""))}))
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db/app"), SecretString: aws.String(dbJSON(t, role, old, aws.ToString(master.ARN)))}))
	fn := aws.String("arn:aws:lambda:us-east-1:000000000000:function:SecretsManagerRDSPostgreSQLRotationMultiUser")

	r := must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db/app"), RotationLambdaARN: fn}))
	waitRotated(t, c, "db/app", aws.ToString(r.VersionId))
	cur := creds(t, c, "db/app", "AWSCURRENT")
	clonePW, _ := cur["password"].(string)
	if cur["username"] != role+"_clone" || cur["masterarn"] != aws.ToString(master.ARN) {
		t.Fatalf("first rotation: user %v", cur["username"])
	}
	if !scramMatches(t, rolpassword(t, admin, role+"_clone"), clonePW) || !scramMatches(t, rolpassword(t, admin, role), old) {
		t.Fatal("first rotation: the clone's password is not the new one, or the user's changed")
	}
	var member bool
	if err := admin.QueryRow(ctx, "SELECT pg_has_role($1, $2, 'MEMBER')", role+"_clone", role).Scan(&member); err != nil || !member {
		t.Fatalf("the clone does not have the user's privileges: %v", err)
	}
	// The clone logs in with its new password only (it is a member of
	// rampart_password_auth through the user); the user, AWSPREVIOUS, still
	// logs in with its password.
	wantLogin(t, role+"_clone", clonePW, false)
	wantLogin(t, role+"_clone", "not-"+clonePW, true)
	wantLogin(t, role, old, false)
	// The next rotation goes back to the user, with a new password.
	r = must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db/app")}))
	waitRotated(t, c, "db/app", aws.ToString(r.VersionId))
	cur, prev := creds(t, c, "db/app", "AWSCURRENT"), creds(t, c, "db/app", "AWSPREVIOUS")
	pw, _ := cur["password"].(string)
	if cur["username"] != role || prev["username"] != role+"_clone" || !scramMatches(t, rolpassword(t, admin, role), pw) || scramMatches(t, rolpassword(t, admin, role), old) {
		t.Fatalf("second rotation: user %v, previous %v", cur["username"], prev["username"])
	}
	wantLogin(t, role, pw, false)
	wantLogin(t, role, old, true)
	wantLogin(t, role+"_clone", clonePW, false)
}

// A built-in rotator's calls are its own: it acts as the principal that
// configured rotation, and each Secrets Manager action it takes is
// authorized for that principal. A user allowed to rotate a secret but not
// to read it cannot have the rotator read it for them; the rotation fails
// before touching any database, and AWSCURRENT stays.
func TestBuiltinRotatorActsAsItsPrincipal(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db/x"), SecretString: aws.String(dbJSON(t, "nobody", "pw", "")),
		ClientRequestToken: aws.String(tok1)}))
	rotator, arn := e.user(account, "rotator", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:RotateSecret","secretsmanager:DescribeSecret"],"Resource":"*"}]}`)
	r := must[*sm.RotateSecretOutput](t)(rotator.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db/x"),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:SecretsManagerRDSPostgreSQLRotationSingleUser")}))
	if r.VersionId == nil {
		t.Fatal("RotateSecret returned no version id")
	}
	// createSecret failed at its first read: no AWSPENDING version, so the
	// audit trail is where the reason is.
	evs := rotationEvents(t, e, aws.ToString(r.VersionId))
	why := fmt.Sprint(evs[len(evs)-1].AdditionalData)
	if evs[len(evs)-1].EventName != "RotationFailed" || !strings.Contains(why, arn+" is not authorized to perform: secretsmanager:GetSecretValue") {
		t.Fatalf("rotation events: %+v", evs)
	}
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db/x")}))
	if len(d.VersionIdsToStages) != 1 || d.VersionIdsToStages[tok1][0] != "AWSCURRENT" || d.LastRotatedDate != nil {
		t.Fatalf("after the refused rotation: %v, last rotated %v", d.VersionIdsToStages, d.LastRotatedDate)
	}
}
