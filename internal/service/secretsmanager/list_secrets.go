package secretsmanager

import (
	"cmp"
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// ListSecrets lists the caller's secrets in the request's Region, filtered,
// sorted (by CreatedDate unless SortBy says otherwise) and paginated.
// Secrets scheduled for deletion are listed only with IncludePlannedDeletion.
func (s *Service) ListSecrets(ctx context.Context, in *smapi.ListSecretsRequest) (*smapi.ListSecretsResponse, error) {
	c := service.CallFrom(ctx)
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	page, next, err := s.list(ctx, c, in.Filters, deref(in.IncludePlannedDeletion), in.SortBy, in.SortOrder, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := &smapi.ListSecretsResponse{SecretList: []smapi.SecretListEntry{}, NextToken: next}
	for _, sc := range page {
		out.SecretList = append(out.SecretList, listEntry(sc))
	}
	return out, nil
}

// list returns one page of the caller's secrets.
func (s *Service) list(ctx context.Context, c *service.Call, filters []smapi.Filter, planned bool, by smapi.SortByType, order smapi.SortOrderType, token *string, limit int) ([]*secret, *string, error) {
	offset := 0
	if token != nil {
		n, err := decodeToken(*token)
		if err != nil {
			return nil, nil, err
		}
		offset = n
	}
	for _, f := range filters {
		if len(f.Values) == 0 {
			return nil, nil, smapi.NewInvalidParameterException("Invalid filter values for key: %s", f.Key)
		}
	}
	var all []*secret
	err := s.store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(TableSecret, c.Principal.Account+"/"+c.Region+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			sc, err := decodeSecret(kv)
			if err != nil {
				return err
			}
			if sc == nil || sc.gone(c.Now) || (sc.scheduled() && !planned) || !matches(sc, filters) {
				continue
			}
			all = append(all, sc)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(all, func(a, b *secret) int {
		var r int
		switch by {
		case smapi.SortByTypeName:
			r = strings.Compare(a.Name, b.Name)
		case smapi.SortByTypeLastChangedDate:
			r = a.LastChanged.Compare(b.LastChanged)
		case smapi.SortByTypeLastAccessedDate:
			r = a.Accessed.Compare(b.Accessed)
		default:
			r = a.Created.Compare(b.Created)
		}
		if r == 0 {
			r = cmp.Compare(a.ARN, b.ARN)
		}
		if order == smapi.SortOrderTypeDesc {
			r = -r
		}
		return r
	})
	if offset > len(all) {
		offset = len(all)
	}
	end := min(offset+limit, len(all))
	var next *string
	if end < len(all) {
		next = ptr(encodeToken(end))
	}
	return all[offset:end], next, nil
}

// Page tokens are opaque to clients: an offset, base64-encoded.
func encodeToken(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(n)))
}

func decodeToken(t string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err == nil && strings.HasPrefix(string(b), "o:") {
		if n, err := strconv.Atoi(string(b[2:])); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, smapi.NewInvalidNextTokenException("The NextToken value is invalid.")
}

// matches applies ListSecrets filters (API_Filter): every filter must
// match; within a filter, a value prefixed with "!" excludes the secrets it
// matches, and the secret must match one of the other values (if any).
// name, tag-key, tag-value, primary-region and owning-service are
// case-sensitive prefix matches; description is a case-insensitive prefix
// match on its words; all breaks the value into words and matches each
// against the words of every attribute, case-insensitively.
func matches(sc *secret, filters []smapi.Filter) bool {
	for _, f := range filters {
		var attrs []string
		fold := false
		words := false
		switch f.Key {
		case smapi.FilterNameStringTypeName:
			attrs = []string{sc.Name}
		case smapi.FilterNameStringTypeDescription:
			attrs, fold, words = []string{deref(sc.Description)}, true, true
		case smapi.FilterNameStringTypeTagKey:
			for _, t := range sc.Tags {
				attrs = append(attrs, t.Key)
			}
		case smapi.FilterNameStringTypeTagValue:
			for _, t := range sc.Tags {
				attrs = append(attrs, t.Value)
			}
		case smapi.FilterNameStringTypePrimaryRegion:
			// Only replicated secrets (primaries with replicas, replicas)
			// have a primary Region.
			if pr := sc.primaryRegion(); pr != "" {
				attrs = []string{pr}
			}
		case smapi.FilterNameStringTypeOwningService:
			// No secret is managed by another service in rampart.
		case smapi.FilterNameStringTypeAll:
			attrs = append(attrs, sc.Name, deref(sc.Description))
			for _, t := range sc.Tags {
				attrs = append(attrs, t.Key, t.Value)
			}
			fold, words = true, true
		}
		if !filterMatches(f.Values, attrs, fold, words) {
			return false
		}
	}
	return true
}

func filterMatches(values, attrs []string, fold, words bool) bool {
	positive := false
	matched := false
	for _, v := range values {
		neg := strings.HasPrefix(v, "!")
		if neg {
			v = v[1:]
		} else {
			positive = true
		}
		hit := false
		for _, a := range attrs {
			if valueMatches(v, a, fold, words) {
				hit = true
				break
			}
		}
		if neg && hit {
			return false
		}
		if !neg && hit {
			matched = true
		}
	}
	return matched || !positive
}

func valueMatches(v, attr string, fold, words bool) bool {
	if !words {
		return strings.HasPrefix(attr, v)
	}
	if fold {
		v, attr = strings.ToLower(v), strings.ToLower(attr)
	}
	aw := splitWords(attr)
	for _, w := range splitWords(v) {
		found := false
		for _, a := range aw {
			if strings.HasPrefix(a, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// splitWords breaks s into runs of letters and digits.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}
