package atprotosim

import (
	"encoding/json"
	"os"
	"testing"
)

// The vectors are records and a blob written to a real PDS (@atproto/pds
// 0.5.35) and the cids it answered.
func TestCIDsMatchARealPDS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, record, want string
	}{
		{
			"gallery",
			`{"$type":"social.grain.gallery","title":"Trip","createdAt":"2026-11-30T09:00:00.000Z"}`,
			"bafyreihjkcz5ddequmkkgfiprv6bhm6nkd3zlk5aqe3izhxutz36jzguja",
		},
		{
			"photo with blob link",
			`{"$type":"social.grain.photo","photo":{"$type":"blob","ref":{"$link":"bafkreiajtvwjxetc63v2ydojbmmty5lznspuachsy64ft5mt6a7gd7qngu"},"mimeType":"image/png","size":73},"alt":"a red","aspectRatio":{"width":4,"height":3},"createdAt":"2026-11-30T09:00:00.000Z"}`,
			"bafyreidcigxoz4dbbayyo7fjmxyt776atjptzdxmhmkxlv5eqmi6t46mvu",
		},
		{
			"photo edited",
			`{"$type":"social.grain.photo","photo":{"$type":"blob","ref":{"$link":"bafkreiajtvwjxetc63v2ydojbmmty5lznspuachsy64ft5mt6a7gd7qngu"},"mimeType":"image/png","size":73},"alt":"a blue","aspectRatio":{"width":4,"height":3},"createdAt":"2026-11-30T09:00:00.000Z"}`,
			"bafyreia6jdx65zfudcuhatbmqyj2lobcu3uensglmjtoqivusd6cqyvfvu",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := recordCID(json.RawMessage(tc.record))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("cid %s, the PDS said %s", got, tc.want)
			}
		})
	}
}

func TestBlobCIDMatchesARealPDS(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/red-4x3.png")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cidOf(codecRaw, data), "bafkreiajtvwjxetc63v2ydojbmmty5lznspuachsy64ft5mt6a7gd7qngu"; got != want {
		t.Fatalf("blob cid %s, the PDS said %s", got, want)
	}
}

func TestRecordCIDRefusesFloats(t *testing.T) {
	t.Parallel()
	if _, err := recordCID(json.RawMessage(`{"$type":"x","n":1.5}`)); err == nil {
		t.Fatal("a float was accepted")
	}
}
