package iam

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// Service last accessed data ("Refine permissions using last accessed
// information", IAM User Guide), read from rampart's audit trail: for a
// user, group, role or managed policy, the services its policies allow and,
// for each, when one of the entities concerned last made a request to it.
// The job runs within GenerateServiceLastAccessedDetails, so it is
// COMPLETED when that call returns.

// tableLastAccessed holds the jobs: <acct>/<job id> → lastAccessedJob.
const tableLastAccessed = "iam.lastaccessed"

// lastAccessedWindow is AWS's tracking period.
const lastAccessedWindow = 400 * 24 * time.Hour

type lastAccessedJob struct {
	Granularity string                       `json:"granularity"`
	Created     time.Time                    `json:"created"`
	Completed   time.Time                    `json:"completed"`
	Services    []iamapi.ServiceLastAccessed `json:"services"`
}

// serviceNames are the names AWS gives the services rampart serves.
var serviceNames = map[string]string{
	"iam": "AWS Identity and Access Management", "sts": "AWS Security Token Service", "kms": "AWS Key Management Service",
	"secretsmanager": "AWS Secrets Manager", "organizations": "AWS Organizations", "s3": "Amazon S3", "ec2": "Amazon EC2",
	"lambda": "AWS Lambda", "acm": "AWS Certificate Manager", "cloudtrail": "AWS CloudTrail", "guardduty": "Amazon GuardDuty",
	"securityhub": "AWS Security Hub", "sso": "AWS IAM Identity Center", "cognito-idp": "Amazon Cognito User Pools",
	"dynamodb": "Amazon DynamoDB", "sqs": "Amazon SQS", "sns": "Amazon SNS", "logs": "Amazon CloudWatch Logs",
}

func serviceName(ns string) string {
	if n, ok := serviceNames[ns]; ok {
		return n
	}
	return ns
}

func (s *Service) registerAccessAdvisor(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpGenerateServiceLastAccessedDetails, s.GenerateServiceLastAccessedDetails, service.Rule[iamapi.GenerateServiceLastAccessedDetailsRequest]{Action: "iam:GenerateServiceLastAccessedDetails",
		Resources: func(c *R, in *iamapi.GenerateServiceLastAccessedDetailsRequest) []string {
			return []string{str(in.Arn)}
		}})
	service.Handle(r, iamapi.OpGetServiceLastAccessedDetails, s.GetServiceLastAccessedDetails, service.Rule[iamapi.GetServiceLastAccessedDetailsRequest]{Action: "iam:GetServiceLastAccessedDetails"})
	service.Handle(r, iamapi.OpGetContextKeysForCustomPolicy, s.GetContextKeysForCustomPolicy, service.Rule[iamapi.GetContextKeysForCustomPolicyRequest]{Action: "iam:GetContextKeysForCustomPolicy"})
	service.Handle(r, iamapi.OpGetContextKeysForPrincipalPolicy, s.GetContextKeysForPrincipalPolicy, service.Rule[iamapi.GetContextKeysForPrincipalPolicyRequest]{Action: "iam:GetContextKeysForPrincipalPolicy",
		Resources: func(c *R, in *iamapi.GetContextKeysForPrincipalPolicyRequest) []string {
			return []string{str(in.PolicySourceArn)}
		}})
}

// entityByARN finds the user, group or role whose ARN (with its path) is arn.
func entityByARN(tx store.Tx, acct, arn string) (*entity, error) {
	for _, k := range []string{kindUser, kindGroup, kindRole} {
		pre := "arn:aws:iam::" + acct + ":" + k + "/"
		if strings.HasPrefix(arn, pre) {
			name := arn[strings.LastIndexByte(arn, '/')+1:]
			e, err := getEntity(tx, k, acct, name)
			if err != nil {
				return nil, err
			}
			if e.ARN != arn {
				return nil, noSuchEntity(k, name)
			}
			return e, nil
		}
	}
	return nil, iamapi.NewInvalidInputException("Invalid Entity Arn: %s", arn)
}

// docs returns the policy documents that apply to e (inline, attached and,
// for a user, its groups').
func entityDocs(tx store.Tx, e *entity) ([]string, error) {
	var out []string
	add := func(o *entity) error {
		for _, in := range o.Inline {
			out = append(out, in.Doc)
		}
		for _, a := range o.Attached {
			p, err := getAnyPolicy(tx, e.Account, a)
			if err != nil {
				if isNoSuchEntity(err) {
					continue
				}
				return err
			}
			out = append(out, p.defaultDoc())
		}
		return nil
	}
	if err := add(e); err != nil {
		return nil, err
	}
	for _, g := range e.Groups {
		ge, err := getEntity(tx, kindGroup, e.Account, g)
		if err != nil {
			return nil, err
		}
		if err := add(ge); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// allowedServices returns the service prefixes the Allow statements of docs
// name in their Action elements, and whether one allows every service
// (an Action "*" or a NotAction).
func allowedServices(docs []string) (map[string]bool, bool) {
	out := map[string]bool{}
	all := false
	for _, d := range docs {
		var doc struct {
			Statement json.RawMessage
		}
		if json.Unmarshal([]byte(d), &doc) != nil {
			continue
		}
		var stmts []map[string]any
		if json.Unmarshal(doc.Statement, &stmts) != nil {
			var one map[string]any
			if json.Unmarshal(doc.Statement, &one) != nil {
				continue
			}
			stmts = append(stmts, one)
		}
		for _, st := range stmts {
			if st["Effect"] != "Allow" {
				continue
			}
			if _, ok := st["NotAction"]; ok {
				all = true
			}
			var acts []any
			switch a := st["Action"].(type) {
			case string:
				acts = []any{a}
			case []any:
				acts = a
			}
			for _, a := range acts {
				as, _ := a.(string)
				svc, _, ok := strings.Cut(as, ":")
				switch {
				case as == "*" || svc == "*":
					all = true
				case ok && !strings.ContainsAny(svc, "*?"):
					out[strings.ToLower(svc)] = true
				}
			}
		}
	}
	return out, all
}

// GenerateServiceLastAccessedDetails computes, from the audit trail, when
// the entity (or the entities a policy is attached to) last used each
// service its policies allow.
func (s *Service) GenerateServiceLastAccessedDetails(ctx context.Context, in *iamapi.GenerateServiceLastAccessedDetailsRequest) (*iamapi.GenerateServiceLastAccessedDetailsResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	arn := str(in.Arn)
	gran := in.Granularity
	if gran == "" {
		gran = iamapi.AccessAdvisorUsageGranularityTypeServiceLevel
	}
	// Who counts (user ARNs and role ARNs, as the audit trail names them),
	// and which documents decide the services listed.
	who := map[string]bool{}
	var docs []string
	err := s.store.View(ctx, func(tx store.Tx) error {
		addEntity := func(e *entity) error {
			switch e.Kind {
			case kindGroup:
				kvs, err := tx.Scan(tableMember, entityKey(acct, e.Name)+"/", "", 0)
				if err != nil {
					return err
				}
				for _, kv := range kvs {
					u, err := getEntity(tx, kindUser, acct, string(kv.Value))
					if err != nil {
						return err
					}
					who[u.ARN] = true
				}
			default:
				who[e.ARN] = true
			}
			return nil
		}
		if _, _, _, ok := policyARNParts(arn); ok {
			p, err := getAnyPolicy(tx, acct, arn)
			if err != nil {
				return err
			}
			docs = []string{p.defaultDoc()}
			kvs, err := tx.Scan(tableAttachment, attachmentPrefix(acct, arn)+usePolicy+"|", "", 0)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				parts := strings.Split(kv.Key, "|")
				e, err := getEntity(tx, parts[len(parts)-2], acct, string(kv.Value))
				if err != nil {
					return err
				}
				if err := addEntity(e); err != nil {
					return err
				}
			}
			return nil
		}
		e, err := entityByARN(tx, acct, arn)
		if err != nil {
			return err
		}
		if docs, err = entityDocs(tx, e); err != nil {
			return err
		}
		return addEntity(e)
	})
	if err != nil {
		return nil, err
	}
	allowed, all := allowedServices(docs)

	type seen struct {
		last           time.Time
		entity, region string
		entities       map[string]bool
		actions        map[string]iamapi.TrackedActionLastAccessed
	}
	used := map[string]*seen{}
	if s.flushAudit != nil {
		if err := s.flushAudit(ctx); err != nil {
			return nil, err
		}
	}
	var before int64
	for {
		rows, err := s.store.QueryAudit(ctx, store.AuditQuery{Account: acct, Start: c.Now.Add(-lastAccessedWindow), Descending: true, BeforeSeq: before, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			var ev struct {
				UserIdentity struct {
					ARN            string `json:"arn"`
					SessionContext *struct {
						SessionIssuer *struct {
							ARN string `json:"arn"`
						} `json:"sessionIssuer"`
					} `json:"sessionContext"`
				} `json:"userIdentity"`
				EventSource string `json:"eventSource"`
				EventName   string `json:"eventName"`
				Region      string `json:"awsRegion"`
			}
			if json.Unmarshal(r.Body, &ev) != nil {
				continue
			}
			ent := ev.UserIdentity.ARN
			if sc := ev.UserIdentity.SessionContext; sc != nil && sc.SessionIssuer != nil && sc.SessionIssuer.ARN != "" {
				ent = sc.SessionIssuer.ARN
			}
			if !who[ent] {
				continue
			}
			ns := strings.TrimSuffix(ev.EventSource, ".amazonaws.com")
			u := used[ns]
			if u == nil {
				u = &seen{entities: map[string]bool{}, actions: map[string]iamapi.TrackedActionLastAccessed{}}
				used[ns] = u
			}
			u.entities[ent] = true
			if r.Time.After(u.last) {
				u.last, u.entity, u.region = r.Time, ent, ev.Region
			}
			if a, ok := u.actions[ev.EventName]; !ok || r.Time.After(*a.LastAccessedTime) {
				u.actions[ev.EventName] = iamapi.TrackedActionLastAccessed{ActionName: ptr(ev.EventName), LastAccessedEntity: ptr(ent),
					LastAccessedTime: ptr(r.Time.UTC()), LastAccessedRegion: ptr(ev.Region)}
			}
		}
		if len(rows) < 1000 {
			break
		}
		before = rows[len(rows)-1].Seq
	}
	if all {
		for ns := range used {
			allowed[ns] = true
		}
	}
	var services []iamapi.ServiceLastAccessed
	for ns := range allowed {
		sl := iamapi.ServiceLastAccessed{ServiceName: ptr(serviceName(ns)), ServiceNamespace: ptr(ns), TotalAuthenticatedEntities: ptr(int32(0))}
		if u := used[ns]; u != nil {
			sl.LastAuthenticated, sl.LastAuthenticatedEntity, sl.LastAuthenticatedRegion = ptr(u.last.UTC()), ptr(u.entity), ptr(u.region)
			sl.TotalAuthenticatedEntities = ptr(int32(len(u.entities)))
			if gran == iamapi.AccessAdvisorUsageGranularityTypeActionLevel {
				for _, a := range u.actions {
					sl.TrackedActionsLastAccessed = append(sl.TrackedActionsLastAccessed, a)
				}
				sort.Slice(sl.TrackedActionsLastAccessed, func(i, j int) bool {
					return *sl.TrackedActionsLastAccessed[i].ActionName < *sl.TrackedActionsLastAccessed[j].ActionName
				})
			}
		}
		services = append(services, sl)
	}
	sort.Slice(services, func(i, j int) bool { return *services[i].ServiceNamespace < *services[j].ServiceNamespace })

	id, err := newUUID(c.Rand)
	if err != nil {
		return nil, err
	}
	now := c.Now.UTC().Truncate(time.Second)
	job := &lastAccessedJob{Granularity: string(gran), Created: now, Completed: now, Services: services}
	if err := s.store.Update(ctx, func(tx store.Tx) error { return putJSON(tx, tableLastAccessed, acct+"/"+id, job) }); err != nil {
		return nil, err
	}
	return &iamapi.GenerateServiceLastAccessedDetailsResponse{JobId: ptr(id)}, nil
}

// GetServiceLastAccessedDetails returns a job's result.
func (s *Service) GetServiceLastAccessedDetails(ctx context.Context, in *iamapi.GetServiceLastAccessedDetailsRequest) (*iamapi.GetServiceLastAccessedDetailsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var job lastAccessedJob
	var ok bool
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		ok, err = getJSON(tx, tableLastAccessed, acct+"/"+str(in.JobId), &job)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, iamapi.NewNoSuchEntityException("No report found for job id %s.", str(in.JobId))
	}
	pg, trunc, next, err := page(job.Services, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if pg == nil {
		pg = []iamapi.ServiceLastAccessed{}
	}
	return &iamapi.GetServiceLastAccessedDetailsResponse{JobStatus: iamapi.JobStatusTypeCompleted, JobType: iamapi.AccessAdvisorUsageGranularityType(job.Granularity),
		JobCreationDate: ptr(job.Created), JobCompletionDate: ptr(job.Completed), ServicesLastAccessed: pg, IsTruncated: trunc, Marker: next}, nil
}
