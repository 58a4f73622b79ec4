package kms_test

import (
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service/organizations"
)

// clocked serves srv's services through a second handler whose clock the
// test sets ahead of the wall clock, so that calls (DisableKey, EnableKey,
// RotateKeyOnDemand…) happen at the dates of a rotation schedule, as the
// worker's sweeps do. Its client follows that clock: the SDK learns the
// skew from the Date header of the clock-skew error it gets after a jump,
// and retries once.
type clocked struct {
	c      *kms.Client
	offset atomic.Int64
}

func newClocked(t *testing.T, srv *rampartest.Server) *clocked {
	t.Helper()
	cl := &clocked{}
	h := server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Authz: authz.New(nil, organizations.NewGuardrails(srv.Store)),
		Audit: srv.Audit, Now: cl.now})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	cfg := srv.Config()
	cfg.BaseEndpoint = aws.String(ts.URL)
	cfg.Retryer = nil // the SDK's own, which retries a clock-skew error
	cfg.RetryMaxAttempts = 2
	cl.c = kms.NewFromConfig(cfg)
	return cl
}

func (cl *clocked) now() time.Time { return time.Now().Add(time.Duration(cl.offset.Load())) }

// set moves the server's clock to at (never backwards).
func (cl *clocked) set(t *testing.T, at time.Time) {
	t.Helper()
	d := time.Until(at)
	if d < time.Duration(cl.offset.Load()) {
		t.Fatalf("the clock would go back to %s", at)
	}
	cl.offset.Store(int64(d))
}

func rotations(t *testing.T, c *kms.Client, id *string) []types.RotationsListEntry {
	t.Helper()
	out, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: id})
	if err != nil {
		t.Fatalf("ListKeyRotations: %v", err)
	}
	return out.Rotations
}

func rotationStatus(t *testing.T, c *kms.Client, id *string) *kms.GetKeyRotationStatusOutput {
	t.Helper()
	st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	if err != nil {
		t.Fatalf("GetKeyRotationStatus: %v", err)
	}
	return st
}

func near(a, b time.Time) bool { d := a.Sub(b); return d > -time.Second && d < time.Second }

func sweep(t *testing.T, srv *rampartest.Server, at time.Time) {
	t.Helper()
	if err := worker(t, srv).Sweep(ctx, at); err != nil {
		t.Fatalf("Sweep at %s: %v", at, err)
	}
}

const day = 24 * time.Hour

// TestRotationOfDisabledKey: a customer managed key that is disabled when
// its automatic rotation is due is not rotated, keeps its rotation status,
// and refuses changes to it; when it is enabled again with key material
// older than its rotation period, it rotates at once (the next sweep), and
// every period from then. "While a KMS key is disabled, AWS KMS does not
// rotate it. However, the key rotation status does not change, and you
// cannot change it while the KMS key is disabled. When the KMS key is
// re-enabled, if the key material is more than [the rotation period] old,
// AWS KMS rotates it immediately" ("How automatic key rotation works").
func TestRotationOfDisabledKey(t *testing.T) {
	srv := rampartest.Start(t)
	cl := newClocked(t, srv)
	c := cl.c
	k := createKey(t, c, nil)
	old, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	due := *rotationStatus(t, c, k.KeyId).NextRotationDate
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}

	// The rotation settings of a disabled key cannot change ("Key states
	// of AWS KMS keys": "DisabledException: <key ARN> is disabled.").
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(120)})
	wantErr(t, err, "DisabledException", 400, *k.Arn+" is disabled.")
	_, err = c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: k.KeyId})
	wantErr(t, err, "DisabledException", 400, *k.Arn+" is disabled.")
	_, err = c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantErr(t, err, "DisabledException", 400, *k.Arn+" is disabled.")

	// Due while disabled: no rotation; the status is unchanged and the
	// schedule goes on.
	sweep(t, srv, due.Add(time.Hour))
	sweep(t, srv, due.Add(2*time.Hour))
	if r := rotations(t, c, k.KeyId); len(r) != 0 {
		t.Fatalf("a disabled key rotated: %+v", r)
	}
	st := rotationStatus(t, c, k.KeyId)
	if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 || !near(*st.NextRotationDate, due.Add(90*day)) {
		t.Fatalf("status of the disabled key: enabled %v period %d next %v; want true 90 %v",
			st.KeyRotationEnabled, aws.ToInt32(st.RotationPeriodInDays), st.NextRotationDate, due.Add(90*day))
	}

	// Enabled again two days later, with material 92 days old.
	cl.set(t, due.Add(2*day))
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	// A sweep whose clock is behind the missed date (the wall clock here)
	// leaves it alone.
	sweep(t, srv, time.Now())
	if r := rotations(t, c, k.KeyId); len(r) != 0 {
		t.Fatalf("rotated by a sweep before the missed date: %+v", r)
	}
	at := cl.now()
	sweep(t, srv, at)
	r := rotations(t, c, k.KeyId)
	if len(r) != 1 || r[0].RotationType != types.RotationTypeAutomatic || r[0].KeyMaterialState != types.KeyMaterialStateCurrent || !near(*r[0].RotationDate, at) {
		t.Fatalf("after re-enabling: %+v; want one automatic rotation at %s", r, at)
	}
	st = rotationStatus(t, c, k.KeyId)
	if !near(*st.NextRotationDate, at.Add(90*day)) {
		t.Fatalf("next rotation %v; want %v", st.NextRotationDate, at.Add(90*day))
	}
	sweep(t, srv, at.Add(89*day))
	if r := rotations(t, c, k.KeyId); len(r) != 1 {
		t.Fatalf("%d rotations within one period", len(r))
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	if aws.ToString(d.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(r[0].KeyMaterialId) {
		t.Fatal("the new material is not current")
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "before" {
		t.Fatalf("old ciphertext after the rotation: %v", err)
	}
}

// TestRotationOfDisabledKeyYoungMaterial: re-enabled with key material
// younger than its rotation period (an on-demand rotation shortly before
// the missed date), the key keeps the original schedule: "If the key
// material is less than [the rotation period] old, AWS KMS resumes the
// original key rotation schedule" ("How automatic key rotation works").
func TestRotationOfDisabledKeyYoungMaterial(t *testing.T) {
	srv := rampartest.Start(t)
	cl := newClocked(t, srv)
	c := cl.c
	k := createKey(t, c, nil)
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	due := *rotationStatus(t, c, k.KeyId).NextRotationDate
	cl.set(t, due.Add(-10*day))
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	young := cl.now()
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	sweep(t, srv, due.Add(time.Hour))
	cl.set(t, due.Add(5*day))
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	sweep(t, srv, cl.now())
	if r := rotations(t, c, k.KeyId); len(r) != 1 || r[0].RotationType != types.RotationTypeOnDemand {
		t.Fatalf("re-enabled with 15-day-old material: %+v; want the on-demand rotation only", r)
	}
	if st := rotationStatus(t, c, k.KeyId); !near(*st.NextRotationDate, due.Add(90*day)) {
		t.Fatalf("next rotation %v; want the original schedule's %v", st.NextRotationDate, due.Add(90*day))
	}
	// Once the material is a period old, the original schedule still
	// decides; then the next date of that schedule rotates.
	sweep(t, srv, young.Add(91*day))
	if r := rotations(t, c, k.KeyId); len(r) != 1 {
		t.Fatalf("rotated off the original schedule: %+v", r)
	}
	sweep(t, srv, due.Add(90*day+time.Hour))
	r := rotations(t, c, k.KeyId)
	if len(r) != 2 || r[1].RotationType != types.RotationTypeAutomatic || !near(*r[1].RotationDate, due.Add(90*day)) {
		t.Fatalf("on the original schedule: %+v; want an automatic rotation at %s", r, due.Add(90*day))
	}
}

// TestRotationOfKeyPendingDeletion: a key pending deletion is not
// rotated, reports its rotation status false and refuses changes to it;
// cancelled, it is Disabled with its rotation status restored, and the
// rotation it missed follows the rule of re-enabled keys. "While a KMS key
// is pending deletion, its key rotation status is false and KMS does not
// rotate the key material. If you cancel the deletion, the original key
// rotation status returns to true" (GetKeyRotationStatus); "After you
// cancel the pending deletion of a KMS key, the key state of the KMS key
// is Disabled" ("Cancel key deletion").
func TestRotationOfKeyPendingDeletion(t *testing.T) {
	srv := rampartest.Start(t)
	cl := newClocked(t, srv)
	c := cl.c
	k := createKey(t, c, nil)
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	due := *rotationStatus(t, c, k.KeyId).NextRotationDate
	cl.set(t, due.Add(-2*day))
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if st := rotationStatus(t, c, k.KeyId); st.KeyRotationEnabled || st.RotationPeriodInDays != nil || st.NextRotationDate != nil {
		t.Fatalf("status of a key pending deletion: enabled %v period %v next %v", st.KeyRotationEnabled, st.RotationPeriodInDays, st.NextRotationDate)
	}
	// "KMSInvalidStateException: <key ARN> is pending deletion." ("Key
	// states of AWS KMS keys").
	_, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending deletion.")
	_, err = c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: k.KeyId})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending deletion.")
	_, err = c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending deletion.")

	sweep(t, srv, due.Add(time.Hour))
	if r := rotations(t, c, k.KeyId); len(r) != 0 {
		t.Fatalf("a key pending deletion rotated: %+v", r)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingDeletion {
		t.Fatalf("state %s", st)
	}

	cl.set(t, due.Add(2*day))
	if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStateDisabled {
		t.Fatalf("after CancelKeyDeletion: %s", st)
	}
	if st := rotationStatus(t, c, k.KeyId); !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 90 {
		t.Fatalf("status after CancelKeyDeletion: enabled %v period %d", st.KeyRotationEnabled, aws.ToInt32(st.RotationPeriodInDays))
	}
	// Disabled: still no rotation.
	sweep(t, srv, cl.now())
	if r := rotations(t, c, k.KeyId); len(r) != 0 {
		t.Fatalf("a cancelled, disabled key rotated: %+v", r)
	}
	// Enabled, with 92-day-old material: rotated at once.
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	at := cl.now()
	sweep(t, srv, at)
	if r := rotations(t, c, k.KeyId); len(r) != 1 || r[0].RotationType != types.RotationTypeAutomatic || !near(*r[0].RotationDate, at) {
		t.Fatalf("after cancel and enable: %+v; want one automatic rotation at %s", r, at)
	}
}

// TestRotationHoldCleared: EnableKeyRotation on a key enabled again
// starts a new schedule ("If you enable automatic key rotation again, AWS
// KMS rotates the key material based on the new rotation-enable date",
// "Disable automatic key rotation"): the rotation missed while the key
// was disabled no longer counts.
func TestRotationHoldCleared(t *testing.T) {
	srv := rampartest.Start(t)
	cl := newClocked(t, srv)
	c := cl.c
	k := createKey(t, c, nil)
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	due := *rotationStatus(t, c, k.KeyId).NextRotationDate
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	sweep(t, srv, due.Add(time.Hour))
	cl.set(t, due.Add(day))
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(180)}); err != nil {
		t.Fatal(err)
	}
	enabled := cl.now()
	sweep(t, srv, enabled.Add(time.Hour))
	if r := rotations(t, c, k.KeyId); len(r) != 0 {
		t.Fatalf("rotated after EnableKeyRotation reset the schedule: %+v", r)
	}
	if st := rotationStatus(t, c, k.KeyId); !near(*st.NextRotationDate, enabled.Add(180*day)) {
		t.Fatalf("next rotation %v; want %v", st.NextRotationDate, enabled.Add(180*day))
	}
	sweep(t, srv, enabled.Add(180*day+time.Hour))
	if r := rotations(t, c, k.KeyId); len(r) != 1 || r[0].RotationType != types.RotationTypeAutomatic {
		t.Fatalf("on the new schedule: %+v", r)
	}
}

// TestImportedMaterialExpiresPendingDeletion: imported key material that
// expires while its key is pending deletion is deleted at its ValidTo
// ("When the key material expires, KMS deletes the key material from the
// KMS key", ImportKeyMaterial); the key stays PendingDeletion, as after
// DeleteImportedKeyMaterial ("When the specified KMS key is in the
// PendingDeletion state, this operation does not change the KMS key's
// state"). Cancelled, the key has no material: PendingImport until the
// same material is imported again.
func TestImportedMaterialExpiresPendingDeletion(t *testing.T) {
	srv, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	material := randomBytes(32)
	imp := func(model types.ExpirationModelType, validTo *time.Time) {
		t.Helper()
		token, pub := importParams(t, c, k.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048)
		if _, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: token,
			EncryptedKeyMaterial: wrap(t, pub, types.AlgorithmSpecRsaesOaepSha256, material), ExpirationModel: model, ValidTo: validTo}); err != nil {
			t.Fatalf("ImportKeyMaterial: %v", err)
		}
	}
	validTo := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	imp(types.ExpirationModelTypeKeyMaterialExpires, &validTo)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("imported")})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	// Import is refused while the key is pending deletion.
	_, err = c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: k.KeyId,
		WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending deletion.")

	sweep(t, srv, validTo.Add(-time.Minute))
	if d := describe(t, c, *k.KeyId); d.KeyState != types.KeyStatePendingDeletion || d.CurrentKeyMaterialId == nil {
		t.Fatalf("before ValidTo: %s, material %v", d.KeyState, d.CurrentKeyMaterialId)
	}
	sweep(t, srv, validTo.Add(time.Minute))
	d := describe(t, c, *k.KeyId)
	if d.KeyState != types.KeyStatePendingDeletion || d.CurrentKeyMaterialId != nil || d.DeletionDate == nil || !d.DeletionDate.Equal(*sched.DeletionDate) {
		t.Fatalf("after ValidTo: %s, material %v, deletion %v; want PendingDeletion without material, deletion %v",
			d.KeyState, aws.ToString(d.CurrentKeyMaterialId), d.DeletionDate, sched.DeletionDate)
	}

	if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingImport {
		t.Fatalf("cancelled without material: %s", st)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending import.")
	imp(types.ExpirationModelTypeKeyMaterialDoesNotExpire, nil)
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "imported" {
		t.Fatalf("Decrypt after re-import: %v", err)
	}

	// DeleteImportedKeyMaterial on a key pending deletion: the material
	// goes, the state stays.
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteImportedKeyMaterial(ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: k.KeyId}); err != nil {
		t.Fatalf("DeleteImportedKeyMaterial pending deletion: %v", err)
	}
	if d := describe(t, c, *k.KeyId); d.KeyState != types.KeyStatePendingDeletion || d.CurrentKeyMaterialId != nil {
		t.Fatalf("after DeleteImportedKeyMaterial: %s, material %v", d.KeyState, aws.ToString(d.CurrentKeyMaterialId))
	}
	if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingImport {
		t.Fatalf("cancelled after DeleteImportedKeyMaterial: %s", st)
	}
}
