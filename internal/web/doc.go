// Package web is tokend's browser surface: server-rendered pages for
// people (sign-in, the second-factor step, account security, sessions,
// the one-time set-password page) and the admin console (users, APIs,
// API keys, OAuth clients, every user's tokens and grants, signing keys,
// the audit log: console.go and admin*.go), kept apart
// from the JSON API of package server (STYLE.md §9).
//
// It has its own mux (routes.go) behind one middleware chain
// (headers.go): a strict Content-Security-Policy with no inline script
// or style, frame-ancestors 'none', nosniff, Referrer-Policy same-origin,
// Cache-Control no-store on every page, and http.CrossOriginProtection
// in front of every state-changing request. Forms are read by one
// function (form.go) that caps the body and every field.
//
// Pages are html/template files embedded from templates/, parsed when
// the Site is built, so a missing or broken template is a startup
// error. Each page has one typed view and one render method (render.go);
// a page group lives in one file (setpassword.go, signin.go,
// account.go, admin.go …) with its handlers, its view types and its
// render methods. To add a page: add its template to pageNames, its file
// with a view type embedding frame and a render method calling
// s.render, and its routes to routes.go. The parts the console's list
// pages share (notice, filter fields, page links) are in
// templates/console.html, parsed with layout.html into every page.
//
// Errors become pages at one place (errors.go), with the same idea as
// the API's problem mapping: only errors of known kinds produce text a
// person sees; anything else is a 500 page carrying the request id,
// whose detail goes to the log once.
//
// The package decides nothing itself: it calls the domain packages
// (user, apikey, oauth, signer, audit) as the API's handlers do, and
// never the store; it uses the store's filter types and errors only.
package web
