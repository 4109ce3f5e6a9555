package webhook

import (
	"slices"

	"github.com/tokend/tokend/internal/valid"
)

// EventTypes are the event types an endpoint may subscribe to. Each is
// the action of an audit event (package audit), except token.leaked,
// which the store derives from a revocation made by a leaked-token
// report. To offer another event, add its audit action here.
var EventTypes = []string{
	"key.create",
	"key.rotate",
	"key.revoke",
	"pat.create",
	"pat.regenerate",
	"pat.revoke",
	"pat.expiring",
	"token.leaked",
	"signing_key.rotate",
	"client.create",
	"client.register",
	"client.rotate_secret",
	"client.delete",
	"approval.requested",
	"approval.approved",
	"approval.denied",
	"webhook.create",
	"webhook.rotate_secret",
	"webhook.delete",
}

// checkEvents validates a subscription: one or more known types, each
// once, returned sorted.
func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, valid.Errorf("events", "is required: list the event types to deliver, out of %v", EventTypes)
	}
	out := slices.Clone(events)
	slices.Sort(out)
	for i, e := range out {
		if !slices.Contains(EventTypes, e) {
			return nil, valid.Errorf("events", "%q is not an event type; the types are %v", e, EventTypes)
		}
		if i > 0 && out[i-1] == e {
			return nil, valid.Errorf("events", "%q is listed twice", e)
		}
	}
	return out, nil
}
