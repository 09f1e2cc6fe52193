// Package contract holds the contract tests that keep the Wix emulator
// (wixsim) honest against Wix's own machine-readable API descriptions (the
// REST doc sources in testdata), and the small schema checker they use.
//
// A Schema is read from one service description. Validate checks a JSON
// value against one of its messages the way a strict client would: only
// declared fields (an unknown field fails), JSON types as declared
// (string, integer, number, boolean, struct, enum values, nested messages,
// arrays), members of a oneOf group flattened into their parent with at
// most one of them set, and fields whose description says **Required.**
// present. JSON null counts as absent, as in proto3 JSON.
//
// Two conventions of Wix's webhooks are part of the checker: a member m
// whose type is a message may arrive as "mAsJson" (the wix-rest-docs
// examples spell event bodies that way), holding the message or a JSON
// string of it; and an integer may be a decimal string (64-bit integers in
// proto3 JSON).
package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Sentinel errors of the checker.
var (
	// ErrUnknownMessage means the schema has no message of that name.
	ErrUnknownMessage = errors.New("unknown message")
	// ErrViolation means a value does not match its message; the error is
	// a *ViolationError listing every mismatch.
	ErrViolation = errors.New("schema violation")
	// ErrSchema means a service description or an erratum is unusable.
	ErrSchema = errors.New("unusable schema")
)

// requiredMark is how a member's description says the field is required.
const requiredMark = "**Required.**"

// Scalar type names of the service descriptions.
const (
	typeString  = "string"
	typeInteger = "integer"
	typeNumber  = "number"
	typeBoolean = "boolean"
	typeStruct  = "struct"
)

// Schema is the message schemas of one service description.
type Schema struct {
	service  string
	messages map[string]*message
	events   []Event
	examples []Example
}

// Event is a webhook the service documents: its DomainEvent message and
// the FQDN and slug that make its eventType.
type Event struct {
	Message, FQDN, Slug string
}

// Example is a JSON example the description gives for one of its messages.
type Example struct {
	Message string
	JSON    string
}

type message struct {
	name    string
	members []member
	enum    []string
	oneOf   bool
}

type member struct {
	name     string
	typ      typeRef
	required bool
}

// typeRef is a member's type: a scalar name or a message name, maybe an array.
type typeRef struct {
	name  string
	array bool
}

func (t typeRef) String() string {
	if t.array {
		return "[]" + t.name
	}
	return t.name
}

// wire forms of the service description.
type (
	wireService struct {
		Name     string        `json:"name"`
		Messages []wireMessage `json:"messages"`
		Events   []wireEvent   `json:"events"`
	}
	wireMessage struct {
		Name    string       `json:"name"`
		Members []wireMember `json:"members"`
		Enum    []string     `json:"enum"`
		OneOf   bool         `json:"oneOf"`
		Docs    struct {
			Examples []struct {
				Body []string `json:"body"`
			} `json:"examples"`
		} `json:"docs"`
	}
	wireMember struct {
		Name string          `json:"name"`
		Type json.RawMessage `json:"type"`
		Doc  string          `json:"doc"`
	}
	wireEvent struct {
		Type      string `json:"type"`
		Topic     string `json:"topic"`
		EventType string `json:"eventType"`
	}
)

// Load reads a service description file; see Parse.
func Load(path string, errata ...Erratum) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	s, err := Parse(data, errata...)
	if err != nil {
		return nil, fmt.Errorf("load schema %s: %w", path, err)
	}
	return s, nil
}

// Parse reads a service description and applies the errata that name its
// messages (others are ignored). An erratum for a field the message
// already declares fails: once Wix documents it, the erratum must go.
func Parse(data []byte, errata ...Erratum) (*Schema, error) {
	var w wireService
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	s := &Schema{service: w.Name, messages: map[string]*message{}}
	for _, wm := range w.Messages {
		m := &message{name: wm.Name, oneOf: wm.OneOf, enum: wm.Enum}
		for _, wmb := range wm.Members {
			t, err := parseType(wmb.Type)
			if err != nil {
				return nil, fmt.Errorf("%w: %s.%s: %w", ErrSchema, wm.Name, wmb.Name, err)
			}
			m.members = append(m.members, member{name: wmb.Name, typ: t, required: strings.Contains(wmb.Doc, requiredMark)})
		}
		s.messages[m.name] = m
		for _, ex := range wm.Docs.Examples {
			for _, body := range ex.Body {
				s.examples = append(s.examples, Example{Message: wm.Name, JSON: body})
			}
		}
	}
	for _, we := range w.Events {
		fqdn := strings.TrimPrefix(we.Topic, "domain_events_")
		slug, ok := strings.CutPrefix(we.EventType, fqdn+"_")
		if !ok {
			return nil, fmt.Errorf("%w: event %s: eventType %q does not start with %q", ErrSchema, we.Type, we.EventType, fqdn)
		}
		s.events = append(s.events, Event{Message: shortName(we.Type), FQDN: fqdn, Slug: slug})
	}
	for _, e := range errata {
		if e.Service != s.service {
			continue
		}
		if err := s.apply(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// parseType reads a member type: a name, or {"name":"array","typeParams":[name]}.
func parseType(raw json.RawMessage) (typeRef, error) {
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		return typeRef{name: shortName(name)}, nil
	}
	var arr struct {
		Name       string   `json:"name"`
		TypeParams []string `json:"typeParams"`
	}
	if err := json.Unmarshal(raw, &arr); err != nil {
		return typeRef{}, fmt.Errorf("type %s: %w", raw, err)
	}
	if arr.Name != "array" || len(arr.TypeParams) != 1 {
		return typeRef{}, fmt.Errorf("unsupported type %s", raw)
	}
	return typeRef{name: shortName(arr.TypeParams[0]), array: true}, nil
}

// shortName drops the "All APIs.<service>." prefix of a message reference;
// message names themselves have no dots.
func shortName(ref string) string {
	if i := strings.LastIndex(ref, "."); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// Service is the service's name, e.g. "ProGallery V2".
func (s *Schema) Service() string { return s.service }

// Has reports whether the schema describes the message.
func (s *Schema) Has(msg string) bool {
	_, ok := s.messages[msg]
	return ok
}

// Events lists the webhooks the service documents.
func (s *Schema) Events() []Event { return slices.Clone(s.events) }

// Event finds the documented webhook with this FQDN and slug.
func (s *Schema) Event(fqdn, slug string) (Event, bool) {
	for _, e := range s.events {
		if e.FQDN == fqdn && e.Slug == slug {
			return e, true
		}
	}
	return Event{}, false
}

// Examples lists the JSON examples given for the service's messages.
func (s *Schema) Examples() []Example { return slices.Clone(s.examples) }
