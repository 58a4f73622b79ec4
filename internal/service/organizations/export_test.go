package organizations

import "time"

// SetInterrupt makes CreateAccount stop, when f says so, between creating
// the account and recording it, as a crash would.
func SetInterrupt(s *Service, f func() bool) { s.interrupt = f }

// SetCreateAccountTimeout changes how long a CreateAccount request stays
// IN_PROGRESS before it is settled from what exists.
func SetCreateAccountTimeout(s *Service, d time.Duration) { s.createTimeout.Store(int64(d)) }
