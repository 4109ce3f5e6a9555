package credential

import "unsafe"

// unsafeBytes views s as a byte slice without copying, so that checksum
// verification on the hot path does not allocate. The slice must not be
// written to.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
