// Package protocols maps a model's protocol name to its codec. It is the one
// visible list of the codecs rampart serves; it lives outside awsproto
// because the codecs import awsproto.
package protocols

import (
	"github.com/rampart/rampart/internal/awsproto"
	awsjson "github.com/rampart/rampart/internal/awsproto/json"
	"github.com/rampart/rampart/internal/awsproto/query"
	"github.com/rampart/rampart/internal/awsproto/restjson"
)

var byName = map[string]awsproto.Protocol{
	"query":     query.New(),
	"json":      awsjson.New(),
	"rest-json": restjson.New(),
}

// For returns the codec of the protocol the model names (Service.Protocol:
// "query", "json", "rest-json"), or nil when rampart has none (rest-xml,
// ec2).
func For(name string) awsproto.Protocol { return byName[name] }

// Names lists the protocols For knows.
func Names() []string { return []string{"query", "json", "rest-json"} }
