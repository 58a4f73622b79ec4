package rampartest

import (
	"errors"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retryer is the retry policy of the SDK clients in rampart's tests (use
// it as aws.Config.Retryer, without RetryMaxAttempts): every answer is
// seen as the server gave it — no AWS error is retried — except that a
// request whose connection the SDK's own HTTP transport closed under it is
// sent again at once, as the SDK's default retryer does.
//
// The Go SDK's transport reads a request's body once more after sending
// it; when the answer arrives before that read, it closes the connection
// while the response is being read ("use of closed network connection",
// aws/aws-sdk-go-v2#1825 and #2737). rampart answers a read within
// microseconds of the request's last byte (its audit record is queued,
// see internal/audit), fast enough to meet that race on a busy machine. A
// change is answered only after its audit record's fsync, long after the
// transport's read, so the request sent again is one that changed nothing.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}
