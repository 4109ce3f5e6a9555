package oauth

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// The approval step for dynamically registered clients (RFC 7591, and
// client ID metadata documents): when Config.ApproveRegistrations is set,
// or an API the client may obtain scopes of has
// policy.approve_dynamic_clients, the client is created pending. It is
// shown as such to its registrant (tokend_approval in the RFC 7592
// answers) and gets no token, no authorization and no device code until
// an administrator approves it (package approval). A policy changed
// later holds only clients registered after the change.

// needsApproval reports whether a new dynamically registered client with
// apiScopes must wait for an administrator's approval.
func (s *Service) needsApproval(ctx context.Context, apiScopes map[string][]string) (bool, error) {
	if s.approveRegistrations {
		return true, nil
	}
	return s.gatedAPI(ctx, slices.Collect(maps.Keys(apiScopes)))
}

// gatedAPI reports whether one of the APIs ids holds dynamically
// registered clients for approval.
func (s *Service) gatedAPI(ctx context.Context, ids []string) (bool, error) {
	apis, err := s.listAPIs(ctx)
	if err != nil {
		return false, err
	}
	for _, a := range apis {
		if slices.Contains(ids, a.ID) && a.Policy.ApproveDynamicClients {
			return true, nil
		}
	}
	return false, nil
}

// registerEvents are the audit events of a new dynamically registered
// client: client.register, and approval.requested when it is pending.
func registerEvents(by audit.Actor, now time.Time, c store.Client) ([]store.Event, error) {
	ev, err := audit.Change(by, now, "client.register", "client", c.ID, nil, ClientView(c))
	if err != nil || c.Approval.State != store.ApprovalPending {
		return []store.Event{ev}, err
	}
	req, err := approvalRequested(by, now, c)
	return []store.Event{ev, req}, err
}

// approvalRequested is the approval.requested event of c, a client that
// has just become pending: written once per pending state, by the
// registration or the document change that made it wait, so that
// administrators (and webhooks) learn of it once.
func approvalRequested(by audit.Actor, now time.Time, c store.Client) (store.Event, error) {
	return audit.Change(by, now, "approval.requested", "client", c.ID, nil, apikey.ApprovalRequest{
		Kind: api.ApprovalKindClient, State: store.ApprovalPending, Name: c.Name, APIScopes: c.APIScopes})
}

// checkApproved refuses a client that an administrator has not approved
// (RFC 6749 §5.2 unauthorized_client), after it authenticated.
func checkApproved(c store.Client) *Error {
	switch c.Approval.State {
	case store.ApprovalPending:
		return newError(400, ErrUnauthorizedClient, "the client awaits an administrator's approval; it gets no token until then")
	case store.ApprovalDenied:
		return newError(400, ErrUnauthorizedClient, "an administrator denied this client; it gets no token")
	}
	return nil
}

// widens reports whether after may obtain scopes of an API that holds
// dynamically registered clients for approval, which before could not.
// Errors count as widening: the client then waits.
func (s *Service) widens(ctx context.Context, before, after store.Client) bool {
	return s.checkWidening(ctx, before, after.APIScopes) != nil
}

// checkWidening refuses an RFC 7592 update that would give a client,
// registered without approval or approved for less, an API that holds
// dynamically registered clients for approval: such a client must be
// registered anew, and wait.
func (s *Service) checkWidening(ctx context.Context, before store.Client, apiScopes map[string][]string) error {
	var added []string
	for id := range apiScopes {
		if _, had := before.APIScopes[id]; !had {
			added = append(added, id)
		}
	}
	gated, err := s.gatedAPI(ctx, added)
	if err != nil || !gated {
		return err
	}
	return invalidMetadata("an API added to the client requires an administrator's approval of new clients; register a new client for it")
}
