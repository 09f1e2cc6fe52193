package wixsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// maxDuplicates bounds Faults.Duplicate so that a typo cannot flood a receiver.
const maxDuplicates = 100

// Faults are delivery misbehaviours a test switches on to see that a
// receiver copes with what Wix's documentation allows: duplicates, out of
// order and late webhooks, and retries. The zero value delivers normally.
// Duplicate, Delay and FailFirst apply to webhooks queued after SetFaults;
// Reorder applies to the next batch the worker takes.
type Faults struct {
	// Duplicate is the number of extra copies of each webhook; every copy
	// is a delivery of its own with the same event and the same iat.
	Duplicate int
	// Reorder delivers each batch of queued webhooks newest first. A batch
	// is everything due when the worker looks; the webhooks of one change
	// (a bulk delete, a gallery delete with its items) always share one.
	Reorder bool
	// Delay holds each webhook this long after it is queued before its
	// first attempt.
	Delay time.Duration
	// FailFirst counts the first N attempts of each webhook as failed
	// without sending them, whatever the receiver would answer, so that
	// the retry schedule (Config.Retry) is exercised.
	FailFirst int
}

// faultsJSON is the wire form of Faults: camelCase, the delay as a Go
// duration string such as "250ms".
type faultsJSON struct {
	Duplicate int    `json:"duplicate"`
	Reorder   bool   `json:"reorder"`
	Delay     string `json:"delay"`
	FailFirst int    `json:"failFirst"`
}

// MarshalJSON writes the camelCase form with the delay as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{Duplicate: f.Duplicate, Reorder: f.Reorder, Delay: f.Delay.String(), FailFirst: f.FailFirst})
}

// UnmarshalJSON reads the camelCase form; the delay may be omitted or "".
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	got, err := w.faults()
	if err != nil {
		return err
	}
	*f = got
	return nil
}

func (w faultsJSON) faults() (Faults, error) {
	var d time.Duration
	if w.Delay != "" {
		var err error
		if d, err = time.ParseDuration(w.Delay); err != nil {
			return Faults{}, fmt.Errorf("delay: %w", err)
		}
	}
	return Faults{Duplicate: w.Duplicate, Reorder: w.Reorder, Delay: d, FailFirst: w.FailFirst}, nil
}

// check reports what is wrong with f as field violations.
func (f Faults) check() []FieldViolation {
	var v []FieldViolation
	if f.Duplicate < 0 || f.Duplicate > maxDuplicates {
		v = append(v, violation("duplicate", "MAX", fmt.Sprintf("must be between 0 and %d", maxDuplicates)))
	}
	if f.Delay < 0 {
		v = append(v, violation("delay", "MIN", "must not be negative"))
	}
	if f.FailFirst < 0 {
		v = append(v, violation("failFirst", "MIN", "must not be negative"))
	}
	return v
}

// SetFaults switches delivery faults on (or off, with the zero value).
func (s *Server) SetFaults(f Faults) error {
	if v := f.check(); len(v) > 0 {
		return fmt.Errorf("set faults: %w", invalid(v...))
	}
	s.faults.Store(&f)
	return nil
}

// currentFaults returns the faults in force.
func (s *Server) currentFaults() Faults {
	if f := s.faults.Load(); f != nil {
		return *f
	}
	return Faults{}
}

// handleFaults is POST /_sandbox/faults: every field is set from the body,
// missing ones switch their fault off. It answers with the faults in force.
func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields() // a misspelt fault must not be silently off
	var wire faultsJSON
	err := dec.Decode(&wire)
	var f Faults
	if err == nil {
		f, err = wire.faults()
	}
	if err != nil {
		writeError(w, invalid(violation("body", "FORMAT", "want {duplicate, reorder, delay, failFirst}: "+err.Error())))
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.currentFaults())
}

// handleGetFaults is GET /_sandbox/faults.
func (s *Server) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.currentFaults())
}
