package secretsmanager

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// GetSecretValue returns the value of a version named by VersionId,
// VersionStage, or both; AWSCURRENT by default.
func (s *Service) GetSecretValue(ctx context.Context, in *smapi.GetSecretValueRequest) (*smapi.GetSecretValueResponse, error) {
	c := service.CallFrom(ctx)
	// The secret the rule found and authorized (nil: none), a cached
	// snapshot: the handler only reads it (touch re-reads it to write).
	sc, found := service.Found[*secret](c, in)
	if !found {
		var err error
		if sc, err = s.lookup(ctx, c, deref(in.SecretId)); err != nil {
			return nil, err
		}
	}
	if sc == nil {
		return nil, errNotFound()
	}
	return s.getValue(ctx, c, sc, in.VersionId, in.VersionStage)
}

// getValue reads one version of sc, found and authorized by the caller.
func (s *Service) getValue(ctx context.Context, c *service.Call, sc *secret, versionID, stage *string) (*smapi.GetSecretValueResponse, error) {
	if sc.scheduled() {
		return nil, errMarkedDeleted()
	}
	v, err := pickVersion(sc, versionID, stage)
	if err != nil {
		return nil, err
	}
	sv, err := s.cachedValueOf(ctx, sc, v.ID)
	if err != nil {
		return nil, err
	}
	if sv == nil {
		return nil, smapi.NewResourceNotFoundException("Secrets Manager can't find the specified secret value for staging label: %s", stageOr(stage))
	}
	if err := checkCrossAccountKey(c, sc.Account, sc.KmsKeyID); err != nil { // crossaccount.go
		return nil, err
	}
	pv, err := s.decrypt(ctx, c, sc, v.ID, sv)
	if err != nil {
		return nil, err
	}
	if today := day(c.Now); !v.Accessed.Equal(today) {
		if err := s.touch(ctx, sc, v.ID, today); err != nil {
			return nil, err
		}
	}
	out := &smapi.GetSecretValueResponse{ARN: &sc.ARN, Name: &sc.Name, VersionId: &v.ID,
		VersionStages: slices.Clone(v.Stages), CreatedDate: timePtr(v.Created)}
	if pv.binary {
		out.SecretBinary = pv.data
	} else {
		out.SecretString = ptr(string(pv.data))
	}
	return out, nil
}

// defaultKey reports whether the KmsKeyId a secret was given names the AWS
// managed key aws/secretsmanager ("" is that key, as is its alias by name
// or ARN). It asks nothing of KMS: it runs on every cross-account read. A
// secret moved to the managed key by its key id or ARN stores "" instead
// (storedKeyID, crossaccount.go), so that it is recognised here too.
func defaultKey(kmsKeyID string) bool {
	return kmsKeyID == "" || kmsKeyID == defaultKeyAlias || strings.HasSuffix(kmsKeyID, ":"+defaultKeyAlias)
}

const defaultKeyAlias = "alias/aws/secretsmanager"

// errDefaultKeyCrossAccount: "you can't use the AWS managed key
// (aws/secretsmanager) for cross-account access" ("Access AWS Secrets
// Manager secrets from a different account", Secrets Manager User Guide).
// AWS refuses such a read, once the secret's policies have allowed it,
// with InvalidRequestException and this message, rather than asking KMS
// (whose key policy for aws/secretsmanager admits only the key's own
// account). The message is the one the AWS knowledge center article
// "secrets-manager-cross-account-key" quotes; the API reference does not
// list the case, the code is AWS's recorded answer.
func errDefaultKeyCrossAccount() error {
	return smapi.NewInvalidRequestException("You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.")
}

func stageOr(stage *string) string {
	if stage == nil {
		return stageCurrent
	}
	return *stage
}

// pickVersion finds the version a request names, in AWS's words when it
// cannot.
func pickVersion(sc *secret, versionID, stage *string) (*version, error) {
	if versionID != nil {
		v := sc.version(*versionID)
		if v == nil {
			return nil, smapi.NewResourceNotFoundException("Secrets Manager can't find the specified secret value for VersionId: %s", *versionID)
		}
		if stage != nil && !slices.Contains(v.Stages, *stage) {
			return nil, smapi.NewInvalidRequestException("You provided a VersionStage that is not associated to the provided VersionId.")
		}
		return v, nil
	}
	v := sc.staged(stageOr(stage))
	if v == nil {
		return nil, smapi.NewResourceNotFoundException("Secrets Manager can't find the specified secret value for staging label: %s", stageOr(stage))
	}
	return v, nil
}

// touch records the day a version was last read (LastAccessedDate, which
// AWS rounds to the date): one write per secret and day, not per read.
func (s *Service) touch(ctx context.Context, old *secret, versionID string, today time.Time) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := load(tx, old.key())
		if err != nil || sc == nil || sc.ARN != old.ARN {
			return err
		}
		sc.Accessed = today
		if v := sc.version(versionID); v != nil {
			v.Accessed = today
		}
		return save(tx, sc)
	})
}

// BatchGetSecretValue returns the values of up to 20 secrets, named by
// SecretIdList or chosen by Filters. Each secret is authorized as
// secretsmanager:GetSecretValue; a secret that cannot be read is reported in
// Errors and does not fail the call. Filters also need
// secretsmanager:ListSecrets ("If you use filters, you must also have
// secretsmanager:ListSecrets", API reference, BatchGetSecretValue): without
// it the call fails with AccessDeniedException and lists nothing.
func (s *Service) BatchGetSecretValue(ctx context.Context, in *smapi.BatchGetSecretValueRequest) (*smapi.BatchGetSecretValueResponse, error) {
	c := service.CallFrom(ctx)
	switch {
	case len(in.SecretIdList) > 0 && len(in.Filters) > 0:
		return nil, smapi.NewInvalidParameterException("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	case len(in.SecretIdList) == 0 && len(in.Filters) == 0:
		return nil, smapi.NewInvalidParameterException("Either 'SecretIdList' or 'Filters' must be provided.")
	case in.MaxResults != nil && len(in.Filters) == 0:
		return nil, smapi.NewInvalidParameterException("'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.")
	}
	out := &smapi.BatchGetSecretValueResponse{}
	ids := in.SecretIdList
	if len(in.Filters) > 0 {
		// Filters search the account's secrets: the caller must be allowed
		// to list them before it learns which match (even as the ids of
		// Errors), whatever it may read.
		if err := s.authorizeListSecrets(ctx, c); err != nil {
			return nil, err
		}
		limit := 20
		if in.MaxResults != nil {
			limit = int(*in.MaxResults)
		}
		page, next, err := s.list(ctx, c, in.Filters, false, "", "", in.NextToken, limit)
		if err != nil {
			return nil, err
		}
		out.NextToken = next
		ids = ids[:0:0]
		for _, sc := range page {
			ids = append(ids, sc.ARN)
		}
	}
	events := make([]*audit.Event, 0, len(ids))
	for _, id := range ids {
		v, err := s.batchOne(ctx, c, id)
		if err != nil {
			ae := asAPIError(err)
			out.Errors = append(out.Errors, smapi.APIErrorType{SecretId: ptr(id), ErrorCode: &ae.Code, Message: &ae.Message})
			events = append(events, s.getEvent(c, id, ae))
			continue
		}
		out.SecretValues = append(out.SecretValues, smapi.SecretValueEntry{ARN: v.ARN, Name: v.Name, VersionId: v.VersionId,
			SecretBinary: v.SecretBinary, SecretString: v.SecretString, VersionStages: v.VersionStages, CreatedDate: v.CreatedDate})
		events = append(events, s.getEvent(c, id, nil))
	}
	if err := s.record(ctx, events); err != nil {
		return nil, err
	}
	return out, nil
}

// getEvent is the GetSecretValue record of one secret of a batch: AWS
// "generates CloudTrail GetSecretValue log entries for each secret you
// request" with BatchGetSecretValue (API reference, BatchGetSecretValue).
// It holds the secret's id and the outcome, never the value.
func (s *Service) getEvent(c *service.Call, id string, failed *awsproto.Error) *audit.Event {
	e := &audit.Event{
		EventTime:         audit.Time{Time: c.Now},
		EventSource:       "secretsmanager.amazonaws.com",
		EventName:         "GetSecretValue",
		AWSRegion:         c.Region,
		SourceIPAddress:   c.SourceIP,
		UserAgent:         c.UserAgent,
		RequestID:         c.RequestID,
		EventType:         audit.EventTypeAwsAPICall,
		ManagementEvent:   true,
		EventCategory:     audit.CategoryManagement,
		ReadOnly:          true,
		APIVersion:        "2017-10-17",
		RequestParameters: map[string]any{"secretId": id},
	}
	if p := c.Principal; p != nil {
		e.UserIdentity = audit.UserIdentity{Type: string(p.Type), PrincipalID: p.ID, ARN: p.ARN, AccountID: p.Account, AccessKeyID: p.AccessKeyID}
		if p.Type == authz.IAMUser {
			e.UserIdentity.UserName = p.Name
		}
		e.RecipientAccountID = p.Account
	}
	if failed != nil {
		e.ErrorCode, e.ErrorMessage = failed.Code, failed.Message
	}
	return e
}

// record stores events through Options.Audit, all at once: the writer's
// group commit gives them one commit, not one each.
func (s *Service) record(ctx context.Context, events []*audit.Event) error {
	if s.opts.Audit == nil || len(events) == 0 {
		return nil
	}
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for i, e := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.opts.Audit.Record(ctx, e)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		// A read that cannot be recorded is not answered (as the server
		// does for the call itself).
		return awsproto.Internal(err)
	}
	return nil
}

func (s *Service) batchOne(ctx context.Context, c *service.Call, id string) (*smapi.GetSecretValueResponse, error) {
	res, err := s.resource(ctx, c, id)
	if err != nil {
		return nil, err
	}
	req := c.Request("secretsmanager:GetSecretValue")
	req.Resource = res
	req.Keys = map[string][]string{"secretsmanager:VersionStage": {stageCurrent}}
	s.secretContext(c, id, req.Keys)
	if err := c.Authz.Authorize(ctx, req); err != nil {
		return nil, err
	}
	sc, err := s.lookup(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound()
	}
	return s.getValue(ctx, c, sc, nil, nil)
}

// asAPIError is how an error appears in a batch answer.
func asAPIError(err error) *awsproto.Error {
	var d *authz.Denied
	if errors.As(err, &d) {
		return &awsproto.Error{Code: "AccessDeniedException", Message: d.Message}
	}
	return awsproto.AsError(err)
}
