package store

import (
	"fmt"

	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// Sizes of a link's sync log and of one read of it.
const (
	MaxLogEntries   = 1000
	DefaultLogLimit = 50
)

// CheckLogEntry validates a sync log entry before it is stored. action is
// required; at, when set, must be a valid time.
func CheckLogEntry(e *gsv1.LogEntry) error {
	if e == nil {
		return fmt.Errorf("%w entry: missing", ErrInvalid)
	}
	if err := firstErr(
		CheckID("action", e.GetAction()),
		CheckOptionalID("wix_item_id", e.GetWixItemId()),
		CheckOptionalID("external_id", e.GetExternalId()),
		CheckOptionalKey("event_id", e.GetEventId()),
		checkFreeText("detail", e.GetDetail()),
	); err != nil {
		return err
	}
	if t := e.GetTarget(); t != gsv1.Side_SIDE_UNSPECIFIED {
		if err := CheckSide(t); err != nil {
			return fmt.Errorf("%w target: %v is not a side", ErrInvalid, t)
		}
	}
	if at := e.GetAt(); at != nil {
		if err := at.CheckValid(); err != nil {
			return fmt.Errorf("%w at: %v", ErrInvalid, err)
		}
	}
	return nil
}

// LogLimit turns a requested ListLog limit into the one to use.
func LogLimit(requested int) (int, error) {
	switch {
	case requested < 0:
		return 0, fmt.Errorf("%w limit: %d is negative", ErrInvalid, requested)
	case requested == 0:
		return DefaultLogLimit, nil
	case requested > MaxLogEntries:
		return MaxLogEntries, nil
	}
	return requested, nil
}

// CheckLogRead validates the arguments of ListLog and returns the limit to use.
func CheckLogRead(tenantID, linkID, wixItemID string, limit int) (int, error) {
	n, err := LogLimit(limit)
	return n, firstErr(CheckID("tenant_id", tenantID), CheckID("link_id", linkID),
		CheckOptionalID("wix_item_id", wixItemID), err)
}
