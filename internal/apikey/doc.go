// Package apikey owns the life of APIs and their keys: creation under an
// API's policy, settings changes, rotation with a grace period,
// revocation, tokend's own admin keys, which are keys of the built-in
// "tokend" API, and personal access tokens (pat.go): keys a user holds,
// with the scopes the API's policy grants their groups.
//
// Every change is one store transaction that also writes its audit event.
// A secret exists in clear only in the value returned to the caller that
// created it; the store receives its SHA-256 and display fragments. The
// token format and the prefixes tokend reserves are package credential's.
package apikey
