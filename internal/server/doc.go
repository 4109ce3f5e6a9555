// Package server is tokend's HTTP API surface: the management API under
// /v1, the verify endpoint, health, readiness and metrics. routes.go lists
// every route; one generic adapter (json.go) reads and writes JSON, and
// one function (errors.go) turns errors into RFC 9457 problem documents.
//
// The API accepts bearer credentials and JSON only, never cookies. It
// owns HTTP concerns and nothing else: decisions are made by the domain
// packages (apikey, verify) it calls.
package server
