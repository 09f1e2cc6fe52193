// Package wix speaks Wix's side of the sync: it verifies the signed webhooks
// Wix posts, decodes their nested envelope, and turns Pro Gallery item events
// into ChangeEvents for the bus. Its Client calls Wix's REST APIs (OAuth,
// Pro Gallery v2, Media Manager) for an app instance.
//
// A webhook passes three gates, each with its own error so the receiver can
// answer Wix correctly: ErrSignature (not from Wix, or no longer valid: 401),
// ErrMalformed (from Wix but not understood: 400) and ErrUnsupported (a valid
// event this service does not act on: 200, so Wix does not retry it).
package wix

import "errors"

// ErrSignature is wrapped when a webhook is not a valid RS256 token signed by
// the app's key: bad or missing signature, another algorithm, or expired.
var ErrSignature = errors.New("webhook signature")

// ErrMalformed is wrapped when a verified webhook's envelope or event cannot
// be understood.
var ErrMalformed = errors.New("malformed webhook")

// ErrUnsupported is wrapped when a webhook is valid but names an event that
// is not synced.
var ErrUnsupported = errors.New("unsupported webhook")
