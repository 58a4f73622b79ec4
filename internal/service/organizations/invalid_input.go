package organizations

import (
	"strings"

	"github.com/rampart/rampart/internal/awsproto"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// Organizations answers a request that breaks the model's constraints with
// InvalidInputException and a Reason (INPUT_REQUIRED, INVALID_PATTERN, …),
// where most json services answer ValidationException
// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_InvalidInputException.html).
// The server asks the service model (awsproto.Service.DecodeError), so the
// mapping applies to every operation, served or not, before authorization.
func init() {
	orgapi.Service.InvalidInput = invalidInput
}

// reasons maps the wording of a constraint (awsproto.Validate's messages)
// to the InvalidInputException reason and the sentence AWS's documentation
// gives for it. The first that matches wins.
var reasons = []struct {
	constraint, reason, text string
}{
	{"Member must not be null", "INPUT_REQUIRED", "You must include a value for all required parameters."},
	{"Member must satisfy constraint: [", "INVALID_LIST_MEMBER", "You provided a list to a parameter that contains at least one invalid value."},
	{"regular expression pattern", "INVALID_PATTERN", "You provided a value that doesn't match the required pattern."},
	{"enum value set", "INVALID_ENUM", "You specified an invalid value."},
	{"length less than", "MAX_LENGTH_EXCEEDED", "You provided a string parameter that is longer than allowed."},
	{"length greater than", "MIN_LENGTH_EXCEEDED", "You provided a string parameter that is shorter than allowed."},
	{"value less than", "MAX_VALUE_EXCEEDED", "You provided a numeric parameter that has a larger value than allowed."},
	{"value greater than", "MIN_VALUE_EXCEEDED", "You provided a numeric parameter that has a smaller value than allowed."},
}

// invalidInput renders the first violation as InvalidInputException: the
// reason's sentence, then the violation in AWS's validation wording so
// that the caller sees which member is at fault.
func invalidInput(violations []string) *awsproto.Error {
	if len(violations) == 0 {
		return nil
	}
	v := violations[0]
	for _, r := range reasons {
		if strings.Contains(v, r.constraint) {
			if r.reason == "INVALID_ENUM" && strings.Contains(v, "'type'") && strings.Contains(v, "SERVICE_CONTROL_POLICY") {
				return orgapi.NewInvalidInputException("You specified an invalid policy type string. %s", v).With("Reason", "INVALID_ENUM_POLICY_TYPE")
			}
			return orgapi.NewInvalidInputException("%s %s", r.text, v).With("Reason", r.reason)
		}
	}
	return orgapi.NewInvalidInputException("You specified an invalid value. %s", v).With("Reason", "INVALID_ENUM")
}
