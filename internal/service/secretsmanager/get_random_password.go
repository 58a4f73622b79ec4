package secretsmanager

import (
	"context"
	"encoding/binary"
	"io"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// Character types of GetRandomPassword (API_GetRandomPassword: "By default,
// Secrets Manager uses uppercase and lowercase letters, numbers, and the
// following characters in passwords: !\"#$%&'()*+,-./:;<=>?@[\]^_`{|}~").
const (
	lowerChars       = "abcdefghijklmnopqrstuvwxyz"
	upperChars       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars       = "0123456789"
	punctuationChars = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// GetRandomPassword generates a password from the call's randomness: each
// character uniformly from the included types, with at least one of each
// (RequireEachIncludedType, true by default), in a uniformly random order.
func (s *Service) GetRandomPassword(ctx context.Context, in *smapi.GetRandomPasswordRequest) (*smapi.GetRandomPasswordResponse, error) {
	c := service.CallFrom(ctx)
	length := 32
	if in.PasswordLength != nil {
		length = int(*in.PasswordLength)
	}
	pw, err := randomPassword(c.Rand, length, passwordOptions{
		exclude:     deref(in.ExcludeCharacters),
		noDigits:    deref(in.ExcludeNumbers),
		noPunct:     deref(in.ExcludePunctuation),
		noUpper:     deref(in.ExcludeUppercase),
		noLower:     deref(in.ExcludeLowercase),
		space:       deref(in.IncludeSpace),
		requireEach: in.RequireEachIncludedType == nil || *in.RequireEachIncludedType,
	})
	if err != nil {
		return nil, err
	}
	return &smapi.GetRandomPasswordResponse{RandomPassword: &pw}, nil
}

type passwordOptions struct {
	exclude                             string
	noDigits, noPunct, noUpper, noLower bool
	space, requireEach                  bool
}

func randomPassword(r io.Reader, length int, o passwordOptions) (string, error) {
	keep := func(set string) string {
		return strings.Map(func(ch rune) rune {
			if strings.ContainsRune(o.exclude, ch) {
				return -1
			}
			return ch
		}, set)
	}
	var required []string // the types a password must contain one of each
	var all strings.Builder
	for _, t := range []struct {
		chars string
		off   bool
	}{{lowerChars, o.noLower}, {upperChars, o.noUpper}, {digitChars, o.noDigits}, {punctuationChars, o.noPunct}} {
		if t.off {
			continue
		}
		if k := keep(t.chars); k != "" {
			required = append(required, k)
			all.WriteString(k)
		}
	}
	if o.space && !strings.ContainsRune(o.exclude, ' ') {
		all.WriteByte(' ')
	}
	alphabet := all.String()
	if alphabet == "" {
		return "", smapi.NewInvalidParameterException("The password can't be generated: every character is excluded.")
	}
	if !o.requireEach {
		required = nil
	}
	if length < len(required) {
		return "", smapi.NewInvalidParameterException("Password length is too short based on the required types.")
	}
	out := make([]byte, length)
	for i := range out {
		set := alphabet
		if i < len(required) {
			set = required[i]
		}
		n, err := uniform(r, len(set))
		if err != nil {
			return "", awsproto.Internal(err)
		}
		out[i] = set[n]
	}
	// Shuffle (Fisher–Yates), so the required characters are anywhere.
	for i := len(out) - 1; i > 0; i-- {
		j, err := uniform(r, i+1)
		if err != nil {
			return "", awsproto.Internal(err)
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

// uniform returns a uniformly random integer in [0, n) read from r.
func uniform(r io.Reader, n int) (int, error) {
	var b [4]byte
	limit := ^uint32(0) - ^uint32(0)%uint32(n)
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return int(v % uint32(n)), nil
		}
	}
}
