package iam

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// The credential report ("Generate credential reports for your AWS
// account", IAM User Guide): one CSV row per user, the root user first,
// with AWS's columns. A report stays current for four hours: generating
// again within that time returns it unchanged, as AWS does; after that,
// GetCredentialReport answers ReportExpired until a new one is generated.
// rampart builds the report within the GenerateCredentialReport call, so
// the report is ready as soon as that call returns STARTED.

// tableCredReport holds each account's latest report: <acct> → credReport.
const tableCredReport = "iam.credreport"

const credReportTTL = 4 * time.Hour

type credReport struct {
	Generated time.Time `json:"generated"`
	CSV       []byte    `json:"csv"`
}

// credReportColumns are AWS's columns, in AWS's order.
var credReportColumns = []string{"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"}

func (s *Service) registerReports(r *service.Registry) {
	service.Handle(r, iamapi.OpGenerateCredentialReport, s.GenerateCredentialReport, service.Rule[awsEmpty]{Action: "iam:GenerateCredentialReport"})
	service.Handle(r, iamapi.OpGetCredentialReport, s.GetCredentialReport, service.Rule[awsEmpty]{Action: "iam:GetCredentialReport"})
}

// reportTime renders a time as the credential report does (ISO 8601 with
// the offset, "2014-10-21T21:19:29+00:00").
func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// GenerateCredentialReport builds the account's credential report unless a
// current one exists.
func (s *Service) GenerateCredentialReport(ctx context.Context, _ *awsEmpty) (*iamapi.GenerateCredentialReportResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	out := &iamapi.GenerateCredentialReportResponse{State: iamapi.ReportStateTypeComplete}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var old credReport
		ok, err := getJSON(tx, tableCredReport, acct, &old)
		if err != nil {
			return err
		}
		if ok && c.Now.Sub(old.Generated) < credReportTTL {
			return nil
		}
		body, err := s.buildCredReport(tx, acct)
		if err != nil {
			return err
		}
		out.State, out.Description = iamapi.ReportStateTypeStarted, ptr("No report exists. Starting a new report generation task")
		return putJSON(tx, tableCredReport, acct, &credReport{Generated: c.Now.UTC().Truncate(time.Second), CSV: body})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetCredentialReport returns the account's current credential report.
func (s *Service) GetCredentialReport(ctx context.Context, _ *awsEmpty) (*iamapi.GetCredentialReportResponse, error) {
	c := service.CallFrom(ctx)
	var rep credReport
	var ok bool
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		ok, err = getJSON(tx, tableCredReport, c.Principal.Account, &rep)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, iamapi.NewCredentialReportNotPresentException("The request was rejected because the credential report does not exist. To generate a credential report, use GenerateCredentialReport.")
	}
	if c.Now.Sub(rep.Generated) >= credReportTTL {
		return nil, iamapi.NewCredentialReportExpiredException("The request was rejected because the most recent credential report has expired. To generate a new credential report, use GenerateCredentialReport.")
	}
	return &iamapi.GetCredentialReportResponse{Content: rep.CSV, ReportFormat: iamapi.ReportFormatTypeTextCsv, GeneratedTime: ptr(rep.Generated)}, nil
}

// buildCredReport renders the report from what the store holds now.
func (s *Service) buildCredReport(tx store.Tx, acct string) ([]byte, error) {
	a, err := getSettings(tx, acct)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(credReportColumns); err != nil {
		return nil, err
	}
	const na = "N/A"
	// The root user: rampart keeps no console password for it.
	root := []string{"<root_account>", "arn:aws:iam::" + acct + ":root", na, "not_supported", "no_information", "not_supported", "not_supported", "false"}
	root = append(root, "false", na, na, na, na, "false", na, na, na, na, "false", na, "false", na)
	if err := w.Write(root); err != nil {
		return nil, err
	}
	users, err := scanEntities(tx, kindUser, acct)
	if err != nil {
		return nil, err
	}
	sortByName(users)
	mfa, err := scanMFA(tx, acct)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		row := []string{u.Name, u.ARN, reportTime(u.Created)}
		var lp loginProfile
		hasLogin, err := getJSON(tx, tableLogin, entityKey(acct, u.Name), &lp)
		if err != nil {
			return nil, err
		}
		if hasLogin {
			next := na
			if a.PasswordPolicy != nil && a.PasswordPolicy.MaxAge > 0 {
				next = reportTime(lp.Changed.AddDate(0, 0, int(a.PasswordPolicy.MaxAge)))
			}
			row = append(row, "true", "no_information", reportTime(lp.Changed), next)
		} else {
			row = append(row, "false", na, na, na)
		}
		mfaActive := false
		for _, d := range mfa {
			if strings.EqualFold(d.User, u.Name) {
				mfaActive = true
			}
		}
		row = append(row, strconv.FormatBool(mfaActive))
		kvs, err := tx.Scan(tableAccessKey, entityKey(acct, u.Name)+"/", "", 0)
		if err != nil {
			return nil, err
		}
		var keys []accessKey
		for _, kv := range kvs {
			var k accessKey
			if err := json.Unmarshal(kv.Value, &k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		sortKeysByCreation(keys)
		for i := range 2 {
			if i >= len(keys) {
				row = append(row, "false", na, na, na, na)
				continue
			}
			k := keys[i]
			use, used, err := s.lastUse(tx, k.ID)
			if err != nil {
				return nil, err
			}
			row = append(row, strconv.FormatBool(k.Status == "Active"), reportTime(k.Created))
			if used {
				row = append(row, reportTime(use.At), use.Region, use.Service)
			} else {
				row = append(row, na, na, na)
			}
		}
		certs, err := userCerts(tx, acct, u.Name)
		if err != nil {
			return nil, err
		}
		for i := range 2 {
			if i >= len(certs) {
				row = append(row, "false", na)
				continue
			}
			row = append(row, strconv.FormatBool(certs[i].Status == "Active"), reportTime(certs[i].Uploaded))
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func sortKeysByCreation(keys []accessKey) {
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j].Created.Before(keys[j-1].Created); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}
