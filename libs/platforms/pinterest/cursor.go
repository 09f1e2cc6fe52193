package pinterest

import (
	"encoding/json"
	"fmt"

	"gallerysync.dev/libs/platforms"
)

// boardMarks is a watch cursor: board id -> the board_pins_modified_at whose
// changes have been handed on, as the API wrote it.
type boardMarks map[string]string

// cursorForm is the cursor's JSON; the version lets a later form be told apart.
type cursorForm struct {
	Version int        `json:"v"`
	Boards  boardMarks `json:"boards"`
}

const cursorVersion = 1

// String encodes the marks as a cursor.
func (m boardMarks) String() string {
	// A map of strings always encodes.
	b, _ := json.Marshal(cursorForm{Version: cursorVersion, Boards: m})
	return string(b)
}

// ReplayCursor is a watch cursor that names no board, so Watch reports
// every Pin of every board it watches, then follows their changes.
const ReplayCursor = `{"v":1,"boards":{}}`

// parseCursor reads a non-empty cursor.
func parseCursor(s string) (boardMarks, error) {
	var f cursorForm
	if err := json.Unmarshal([]byte(s), &f); err != nil || f.Version != cursorVersion {
		return nil, fmt.Errorf("%w: watch cursor %.40q is not a pinterest cursor", platforms.ErrPermanent, s)
	}
	if f.Boards == nil {
		f.Boards = boardMarks{}
	}
	return f.Boards, nil
}
