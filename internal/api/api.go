// Package api is the catalog of AWS API models rampart knows: the generated
// packages below it (internal/api/<service>, imported as <service>api) for the
// services rampart serves, and the operation list of every other model in
// api/models, so the router can tell an operation that is not served yet
// (NotImplemented) from one that does not exist.
package api

//go:generate go run ../gen/apigen -models ../../api/models -out .

import "github.com/rampart/rampart/internal/awsproto"

// Services returns every known service, served or not. The slice is shared:
// do not modify it.
func Services() []*awsproto.Service { return catalog }
