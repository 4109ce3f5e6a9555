package web

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
)

// The limits of a form: the whole body, and each field. A password is at
// most user.MaxPasswordLength (1024) bytes; no field of any page needs
// more than maxField.
const (
	maxFormBytes = 32 << 10
	maxField     = 4 << 10
)

// readForm reads a POSTed form (application/x-www-form-urlencoded, what
// a <form> sends by default) within the limits above. Query parameters
// are not merged in: a page's input comes from its body only.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errFormType
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errFormTooLarge
		}
		return nil, errBadForm
	}
	for _, vs := range r.PostForm {
		for _, v := range vs {
			if len(v) > maxField {
				return nil, errFieldTooLong
			}
		}
	}
	return r.PostForm, nil
}
