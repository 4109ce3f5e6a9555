// Package tokend is the root of the tokend module: a self-hosted API token
// server. The program is cmd/tokend; the importable packages are api (wire
// types), client (a Go client of the management API) and, later,
// tokenauth. This package holds only repository-wide tests.
package tokend
