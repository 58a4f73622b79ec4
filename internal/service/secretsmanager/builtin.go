package secretsmanager

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/service"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// The built-in rotators answer to Lambda ARNs whose function name is the
// name of AWS's rotation function template
// ("Rotation function templates": SecretsManagerRDSPostgreSQLRotationSingleUser
// and SecretsManagerRDSPostgreSQLRotationMultiUser), in any account and Region.
const (
	fnPostgresSingle = "SecretsManagerRDSPostgreSQLRotationSingleUser"
	fnPostgresMulti  = "SecretsManagerRDSPostgreSQLRotationMultiUser"
)

// builtinRotator returns the built-in rotation function called name, or nil.
func builtinRotator(s *Service, name string) RotationFunction {
	switch name {
	case fnPostgresSingle:
		return &pgRotator{s: s}
	case fnPostgresMulti:
		return &pgRotator{s: s, alternate: true}
	}
	return nil
}

// dbSecret is AWS's JSON structure for database credentials
// ("JSON structure of AWS Secrets Manager secrets": Amazon RDS PostgreSQL).
type dbSecret struct {
	Engine    string `json:"engine,omitempty"`
	Host      string `json:"host"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname,omitempty"`
	Port      any    `json:"port,omitempty"` // a number or a string
	MasterARN string `json:"masterarn,omitempty"`

	extra map[string]any // other fields, kept as they are
}

func parseDBSecret(b []byte) (*dbSecret, error) {
	var d dbSecret
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, errors.New("the secret is not the JSON of database credentials")
	}
	if err := json.Unmarshal(b, &d.extra); err != nil {
		return nil, err
	}
	if d.Host == "" || d.Username == "" {
		return nil, errors.New("the secret's JSON has no host or username")
	}
	return &d, nil
}

func (d *dbSecret) marshal() ([]byte, error) {
	m := map[string]any{}
	for k, v := range d.extra {
		m[k] = v
	}
	m["host"], m["username"], m["password"] = d.Host, d.Username, d.Password
	return json.Marshal(m)
}

func (d *dbSecret) port() uint16 {
	switch p := d.Port.(type) {
	case float64:
		return uint16(p)
	case string:
		if n, err := strconv.Atoi(p); err == nil {
			return uint16(n)
		}
	}
	return 5432
}

// connect logs in to the database with d's credentials.
func (d *dbSecret) connect(ctx context.Context) (*pgx.Conn, error) {
	db := d.DBName
	if db == "" {
		db = "postgres"
	}
	cfg, err := pgx.ParseConfig("sslmode=prefer connect_timeout=5")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password = d.Host, d.port(), db, d.Username, d.Password
	return pgx.ConnectConfig(ctx, cfg)
}

// pgRotator rotates PostgreSQL credentials as AWS's templates do: the
// single-user strategy changes the user's own password; the
// alternating-users strategy alternates between the user and a clone
// ("<user>_clone"), created and given the user's privileges with the
// credentials of the superuser secret named by "masterarn".
//
// It acts inside rampart with the call it is given (the caller of
// RotateSecret, or on schedule the principal that configured rotation; see
// runner.go): each Secrets Manager action it takes is authorized for that
// principal as the same API call would be, and KMS authorizes every data
// key it uses.
type pgRotator struct {
	s         *Service
	alternate bool
}

// passwordExclude are the characters AWS's templates exclude from
// generated database passwords.
const passwordExclude = "/@\"'\\"

func (p *pgRotator) Rotate(ctx context.Context, c *service.Call, ev RotationEvent) error {
	ctx = service.WithCall(ctx, c)
	s := p.s
	// Each call is authorized for the rotator's identity as the same call
	// through the API would be: the function's calls are its own.
	allow := func(action, id string, keys map[string][]string) error {
		return s.authorizeAs(ctx, c, action, id, keys)
	}
	get := func(versionID, stage string) (*dbSecret, error) {
		keys := map[string][]string{}
		switch {
		case stage != "":
			keys["secretsmanager:VersionStage"] = []string{stage}
		case versionID == "":
			keys["secretsmanager:VersionStage"] = []string{stageCurrent}
		}
		if versionID != "" {
			keys["secretsmanager:VersionId"] = []string{versionID}
		}
		if err := allow("secretsmanager:GetSecretValue", ev.SecretId, keys); err != nil {
			return nil, err
		}
		in := &smapi.GetSecretValueRequest{SecretId: &ev.SecretId}
		if versionID != "" {
			in.VersionId = &versionID
		}
		if stage != "" {
			in.VersionStage = &stage
		}
		out, err := s.GetSecretValue(ctx, in)
		if err != nil {
			return nil, err
		}
		return parseDBSecret([]byte(deref(out.SecretString)))
	}
	switch ev.Step {
	case "createSecret":
		cur, err := get("", stageCurrent)
		if err != nil {
			return err
		}
		if _, err := get(ev.ClientRequestToken, stagePending); err == nil {
			return nil // made by an earlier attempt
		}
		pw, err := randomPassword(rand.Reader, 32, passwordOptions{exclude: passwordExclude, requireEach: true})
		if err != nil {
			return err
		}
		next := *cur
		next.Password = pw
		if p.alternate {
			if strings.HasSuffix(cur.Username, "_clone") {
				next.Username = strings.TrimSuffix(cur.Username, "_clone")
			} else {
				next.Username = cur.Username + "_clone"
			}
			if len(next.Username) > 63 {
				return errors.New("the clone's user name would exceed PostgreSQL's 63 characters")
			}
		}
		b, err := next.marshal()
		if err != nil {
			return err
		}
		if err := allow("secretsmanager:PutSecretValue", ev.SecretId, map[string][]string{"secretsmanager:VersionStage": {stagePending}}); err != nil {
			return err
		}
		_, err = s.PutSecretValue(ctx, &smapi.PutSecretValueRequest{SecretId: &ev.SecretId, ClientRequestToken: &ev.ClientRequestToken,
			SecretString: ptr(string(b)), VersionStages: []string{stagePending}})
		return err

	case "setSecret":
		pending, err := get(ev.ClientRequestToken, stagePending)
		if err != nil {
			return err
		}
		var admin *dbSecret
		if p.alternate {
			cur, err := get("", stageCurrent)
			if err != nil {
				return err
			}
			if cur.MasterARN == "" {
				return errors.New("the secret names no superuser secret (masterarn)")
			}
			if err := allow("secretsmanager:GetSecretValue", cur.MasterARN, map[string][]string{"secretsmanager:VersionStage": {stageCurrent}}); err != nil {
				return fmt.Errorf("reading the superuser secret: %w", err)
			}
			master, err := s.GetSecretValue(ctx, &smapi.GetSecretValueRequest{SecretId: &cur.MasterARN})
			if err != nil {
				return fmt.Errorf("reading the superuser secret: %w", err)
			}
			if admin, err = parseDBSecret([]byte(deref(master.SecretString))); err != nil {
				return err
			}
		} else {
			// Log in as the user: with the current password, else the
			// pending one (an earlier attempt set it), else the previous.
			for _, stage := range []string{stageCurrent, stagePending, stagePrevious} {
				cand := pending
				if stage != stagePending {
					if cand, err = get("", stage); err != nil {
						continue
					}
				}
				if cand.Username != pending.Username || cand.Host != pending.Host {
					return errors.New("the pending secret changes the user or the host; the single-user strategy changes only the password")
				}
				admin = cand
				if conn, err := cand.connect(ctx); err == nil {
					conn.Close(ctx)
					break
				}
			}
		}
		conn, err := admin.connect(ctx)
		if err != nil {
			return fmt.Errorf("could not log in to %s to set the password: %v", admin.Host, redact(err, admin.Password, pending.Password))
		}
		defer conn.Close(ctx)
		role := pgx.Identifier{pending.Username}.Sanitize()
		if p.alternate {
			var exists bool
			if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", pending.Username).Scan(&exists); err != nil {
				return redact(err, pending.Password)
			}
			if !exists {
				cur, err := get("", stageCurrent)
				if err != nil {
					return err
				}
				if _, err := conn.Exec(ctx, "CREATE ROLE "+role+" WITH LOGIN"); err != nil {
					return redact(err, pending.Password)
				}
				if _, err := conn.Exec(ctx, "GRANT "+pgx.Identifier{cur.Username}.Sanitize()+" TO "+role); err != nil {
					return redact(err, pending.Password)
				}
			}
		}
		// The server gets a SCRAM verifier, not the password: nothing a
		// statement log could record would let anyone log in.
		verifier, err := scramVerifier(pending.Password)
		if err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, "ALTER ROLE "+role+" WITH PASSWORD "+quoteLiteral(verifier)); err != nil {
			return fmt.Errorf("ALTER ROLE failed: %v", redact(err, pending.Password))
		}
		return nil

	case "testSecret":
		pending, err := get(ev.ClientRequestToken, stagePending)
		if err != nil {
			return err
		}
		conn, err := pending.connect(ctx)
		if err != nil {
			return fmt.Errorf("could not log in with the pending credentials: %v", redact(err, pending.Password))
		}
		defer conn.Close(ctx)
		var one int
		return conn.QueryRow(ctx, "SELECT 1").Scan(&one)

	case "finishSecret":
		if err := allow("secretsmanager:DescribeSecret", ev.SecretId, nil); err != nil {
			return err
		}
		sc, err := s.lookup(ctx, c, ev.SecretId)
		if err != nil || sc == nil {
			return errors.Join(err, errors.New("the secret is gone"))
		}
		cur := sc.staged(stageCurrent)
		if cur != nil && cur.ID == ev.ClientRequestToken {
			return nil
		}
		if err := allow("secretsmanager:UpdateSecretVersionStage", ev.SecretId, map[string][]string{"secretsmanager:VersionStage": {stageCurrent}}); err != nil {
			return err
		}
		in := &smapi.UpdateSecretVersionStageRequest{SecretId: &ev.SecretId, VersionStage: ptr(stageCurrent), MoveToVersionId: &ev.ClientRequestToken}
		if cur != nil {
			in.RemoveFromVersionId = &cur.ID
		}
		_, err = s.UpdateSecretVersionStage(ctx, in)
		return err
	}
	return fmt.Errorf("unknown rotation step %q", ev.Step)
}

// quoteLiteral quotes s as a standard SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// redact keeps passwords out of an error that may echo them.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[hidden]")
		}
	}
	return errors.New(msg)
}

// scramVerifier returns PostgreSQL's SCRAM-SHA-256 verifier of password
// (RFC 5802, RFC 7677; the format of pg_authid.rolpassword).
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	const iter = 4096
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iter, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}
