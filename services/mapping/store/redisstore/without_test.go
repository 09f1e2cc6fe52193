package redisstore

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"gallerysync.dev/libs/testkit"
	gsv1 "gallerysync.dev/proto/gallerysync/v1"
)

// withoutInGo is the reference for the script's without(): msg minus every
// top-level occurrence of field, everything else byte for byte.
func withoutInGo(t *testing.T, msg []byte, field protowire.Number) []byte {
	t.Helper()
	var out []byte
	for len(msg) > 0 {
		num, _, n := protowire.ConsumeField(msg)
		if n < 0 {
			t.Fatalf("reference: %v", protowire.ParseError(n))
		}
		if num != field {
			out = append(out, msg[:n]...)
		}
		msg = msg[n:]
	}
	return out
}

// unknownFields appends fields of every wire type the script must step over,
// with numbers the schema does not know, as a newer writer might leave them.
func unknownFields(b []byte) []byte {
	b = protowire.AppendTag(b, 100, protowire.VarintType)
	b = protowire.AppendVarint(b, 1<<63+12345) // ten bytes, beyond exact doubles
	b = protowire.AppendTag(b, 101, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 0xffffffffffffffff)
	b = protowire.AppendTag(b, 102, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 0x80808080)
	b = protowire.AppendTag(b, 103, protowire.BytesType)
	b = protowire.AppendBytes(b, bytes.Repeat([]byte{0x80, 0x38, 0x02}, 100)) // two-byte length, tag-like bytes inside
	b = protowire.AppendTag(b, protowire.MaxValidNumber, protowire.VarintType)
	return protowire.AppendVarint(b, 2)
}

func TestProtoWithoutScript(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rdb := newClient(t, testkit.StartRedis(t).Addr())
	script := redis.NewScript(protoWithoutLua + "return without(ARGV[1], tonumber(ARGV[2]))")
	run := func(msg []byte, field protowire.Number) ([]byte, error) {
		v, err := script.Run(ctx, rdb, nil, msg, strconv.Itoa(int(field))).Text()
		return []byte(v), err
	}
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	link := marshal(&gsv1.Link{
		TenantId: "t", LinkId: "l", GalleryId: "g", ConnectionId: "c", AlbumId: "é",
		State: gsv1.LinkState_LINK_STATE_ERROR, Direction: gsv1.Direction_DIRECTION_TWO_WAY,
		CreatedAt: timestamppb.New(time.Unix(1<<40, 999999999)),
	})
	conn := marshal(&gsv1.Connection{
		TenantId: "t", ConnectionId: "c", Platform: "mastodon", Credentials: bytes.Repeat([]byte{0xff, 0x3a}, 300),
	})
	state, creds := fieldNumber(&gsv1.Link{}, "state"), fieldNumber(&gsv1.Connection{}, "credentials")
	cases := []struct {
		name  string
		msg   []byte
		field protowire.Number
	}{
		{"link state", link, state},
		{"link state with unknown fields", unknownFields(link), state},
		{"link without state set", marshal(&gsv1.Link{TenantId: "t", LinkId: "l"}), state},
		{"state given twice", append(unknownFields(link), link...), state},
		{"connection credentials", conn, creds},
		{"credentials after unknown fields", append(unknownFields(nil), conn...), creds},
		{"an unknown field", unknownFields(conn), 103},
		{"the largest field number", unknownFields(conn), protowire.MaxValidNumber},
		{"empty message", nil, state},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run(c.msg, c.field)
			if err != nil {
				t.Fatal(err)
			}
			if want := withoutInGo(t, c.msg, c.field); !bytes.Equal(got, want) {
				t.Fatalf("without field %d:\n got  %x\n want %x", c.field, got, want)
			}
		})
	}
	t.Run("truncated message is an error", func(t *testing.T) {
		for _, cut := range []int{1, 2, len(conn) - 1} {
			if got, err := run(conn[:cut], creds); err == nil {
				t.Fatalf("cut after %d bytes: no error, got %x", cut, got)
			}
		}
	})
}
