package secretsmanager_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/store"
)

func TestListSecrets(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	for _, s := range []struct{ name, desc, tk, tv string }{
		{"prod/db", "Production Database password", "env", "prod"},
		{"prod/api", "API key", "env", "prod"},
		{"dev/db", "development database", "env", "dev"},
		{"Other", "", "owner", "alice"},
	} {
		in := &sm.CreateSecretInput{Name: aws.String(s.name), Tags: []smtypes.Tag{{Key: aws.String(s.tk), Value: aws.String(s.tv)}}}
		if s.desc != "" {
			in.Description = aws.String(s.desc)
		}
		must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, in))
	}
	f := func(k smtypes.FilterNameStringType, v ...string) smtypes.Filter {
		return smtypes.Filter{Key: k, Values: v}
	}
	cases := map[string]struct {
		filters []smtypes.Filter
		want    []string // in creation order
	}{
		"none":                {nil, []string{"prod/db", "prod/api", "dev/db", "Other"}},
		"name prefix":         {[]smtypes.Filter{f("name", "prod/")}, []string{"prod/db", "prod/api"}},
		"name case-sensitive": {[]smtypes.Filter{f("name", "other")}, nil},
		"name negated":        {[]smtypes.Filter{f("name", "!prod")}, []string{"dev/db", "Other"}},
		"description words":   {[]smtypes.Filter{f("description", "database")}, []string{"prod/db", "dev/db"}},
		"tag key":             {[]smtypes.Filter{f("tag-key", "own")}, []string{"Other"}},
		"tag value":           {[]smtypes.Filter{f("tag-value", "prod")}, []string{"prod/db", "prod/api"}},
		"two filters":         {[]smtypes.Filter{f("tag-value", "prod"), f("description", "api")}, []string{"prod/api"}},
		"all, any case":       {[]smtypes.Filter{f("all", "ALICE")}, []string{"Other"}},
		"all, several values": {[]smtypes.Filter{f("all", "dev", "api")}, []string{"prod/api", "dev/db"}},
		"primary-region":      {[]smtypes.Filter{f("primary-region", "us-east-1")}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := must[*sm.ListSecretsOutput](t)(c.ListSecrets(ctx, &sm.ListSecretsInput{Filters: tc.filters, SortOrder: smtypes.SortOrderTypeAsc}))
			var got []string
			for _, s := range l.SecretList {
				got = append(got, aws.ToString(s.Name))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Sorting and pagination.
	byName := must[*sm.ListSecretsOutput](t)(c.ListSecrets(ctx, &sm.ListSecretsInput{SortBy: smtypes.SortByTypeName, SortOrder: smtypes.SortOrderTypeDesc}))
	if aws.ToString(byName.SecretList[0].Name) != "prod/db" || aws.ToString(byName.SecretList[3].Name) != "Other" {
		t.Fatalf("by name, descending: %v", byName.SecretList)
	}
	var pages, total int
	p := sm.NewListSecretsPaginator(c, &sm.ListSecretsInput{MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		out := must[*sm.ListSecretsOutput](t)(p.NextPage(ctx))
		pages++
		total += len(out.SecretList)
	}
	if pages != 2 || total != 4 {
		t.Fatalf("%d pages, %d secrets", pages, total)
	}
	_, err := c.ListSecrets(ctx, &sm.ListSecretsInput{NextToken: aws.String("garbage")})
	wantErr(t, err, "InvalidNextTokenException", 400, "")
}

func TestBatchGetSecretValue(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c"} {
		must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("value-" + n)}))
	}
	out := must[*sm.BatchGetSecretValueOutput](t)(c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"a", "c", "missing"}}))
	if len(out.SecretValues) != 2 || aws.ToString(out.SecretValues[1].SecretString) != "value-c" || len(out.Errors) != 1 ||
		aws.ToString(out.Errors[0].ErrorCode) != "ResourceNotFoundException" || aws.ToString(out.Errors[0].SecretId) != "missing" {
		t.Fatalf("BatchGetSecretValue = %+v", out)
	}
	byFilter := must[*sm.BatchGetSecretValueOutput](t)(c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{Filters: []smtypes.Filter{{Key: "name", Values: []string{"b"}}}}))
	if len(byFilter.SecretValues) != 1 || aws.ToString(byFilter.SecretValues[0].SecretString) != "value-b" {
		t.Fatalf("by filter = %+v", byFilter)
	}
	_, err := c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"a"}, Filters: []smtypes.Filter{{Key: "name", Values: []string{"b"}}}})
	wantErr(t, err, "InvalidParameterException", 400, "Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	// A user allowed BatchGetSecretValue and GetSecretValue on "a" only.
	u, _ := e.user(account, "batch", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:BatchGetSecretValue","Resource":"*"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:a-*"}]}`)
	part := must[*sm.BatchGetSecretValueOutput](t)(u.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"a", "b"}}))
	if len(part.SecretValues) != 1 || len(part.Errors) != 1 || aws.ToString(part.Errors[0].ErrorCode) != "AccessDeniedException" {
		t.Fatalf("partial batch = %+v", part)
	}

	// Each secret of a batch has its GetSecretValue audit event ("Secrets
	// Manager generates CloudTrail GetSecretValue log entries for each
	// secret you request"), beside the BatchGetSecretValue one, with the
	// caller, the secret's id and the outcome, never the value.
	if err := e.Audit.Flush(ctx); err != nil { // the reads' records are queued
		t.Fatal(err)
	}
	rows, err := e.Store.QueryAudit(ctx, store.AuditQuery{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	type got struct{ user, id, code string }
	var gets []got
	batches := 0
	for _, r := range rows {
		ev, err := audit.Parse(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.Body), "value-") {
			t.Errorf("audit record holds a secret value: %s", r.Body)
		}
		switch ev.EventName {
		case "BatchGetSecretValue":
			batches++
		case "GetSecretValue":
			p, _ := ev.RequestParameters.(map[string]any)
			id, _ := p["secretId"].(string)
			if ev.EventSource != "secretsmanager.amazonaws.com" || !ev.ReadOnly || ev.RequestID == "" {
				t.Errorf("GetSecretValue event %+v", ev)
			}
			gets = append(gets, got{ev.UserIdentity.Type, id, ev.ErrorCode})
		}
	}
	want := []got{{"Root", "a", ""}, {"Root", "c", ""}, {"Root", "missing", "ResourceNotFoundException"},
		{"Root", "arn:aws:secretsmanager:us-east-1:000000000000:secret:b-", ""},
		{"IAMUser", "a", ""}, {"IAMUser", "b", "AccessDeniedException"}}
	if batches != 4 || len(gets) != len(want) { // the refused batch too
		t.Fatalf("audit: %d BatchGetSecretValue events, GetSecretValue events %v", batches, gets)
	}
	// Within a batch the events share a commit, in no particular order.
	key := func(g got) string { return g.user + " " + g.id }
	slices.SortFunc(gets, func(a, b got) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(want, func(a, b got) int { return strings.Compare(key(a), key(b)) })
	for i, w := range want {
		if gets[i].user != w.user || gets[i].code != w.code || !strings.HasPrefix(gets[i].id, w.id) {
			t.Errorf("GetSecretValue event %d = %+v, want %+v", i, gets[i], w)
		}
	}
}
