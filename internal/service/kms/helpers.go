package kms

import (
	"context"
	"crypto/sha1"
	"hash"
	"time"

	"github.com/rampart/rampart/internal/service"
)

func callNow(ctx context.Context) time.Time { return service.CallFrom(ctx).Now }

// newSHA1 is for RSAES_OAEP_SHA_1 wrapping, which AWS still offers.
func newSHA1() hash.Hash { return sha1.New() }
