package api

import "time"

// The states of an approval (ApprovalState.State).
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
)

// RevokedDenied is the RevokedReason of a personal access token an
// administrator denied.
const RevokedDenied = "approval_denied"

// ApprovalState is where a credential stands with an administrator's
// approval, on a credential whose API's policy asked for one.
type ApprovalState struct {
	// State is ApprovalPending, ApprovalApproved or ApprovalDenied.
	State string `json:"state"`
	// Reason is the administrator's words, if they gave any.
	Reason string `json:"reason,omitempty"`
	// DecidedAt is when the administrator decided; absent while pending.
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// The kinds of credential an approval is about (Approval.Kind).
const (
	ApprovalKindToken  = "personal_access_token"
	ApprovalKindClient = "client"
)

// Approval is one entry of GET /v1/approvals: a personal access token
// (Token set) or a dynamically registered OAuth client (Client set)
// held for an administrator's decision. ID is the credential's id, the
// {id} of POST /v1/approvals/{id}/approve and /deny.
type Approval struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	RequestedAt time.Time `json:"requested_at"`
	ApprovalState
	Token  *Token  `json:"token,omitempty"`
	Client *Client `json:"client,omitempty"`
}

// ApprovalList is a page of GET /v1/approvals, oldest first. NextCursor
// is empty on the last page.
type ApprovalList struct {
	Approvals  []Approval `json:"approvals"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// DecideApprovalRequest is the body of POST /v1/approvals/{id}/approve
// and /deny. Reason, 1 to 500 characters, is shown to the credential's
// owner; a denial needs one, an approval may have one.
type DecideApprovalRequest struct {
	Reason string `json:"reason,omitempty"`
}
