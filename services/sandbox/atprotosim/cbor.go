package atprotosim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Codecs of the CIDs a PDS makes: records are DAG-CBOR, blobs raw bytes.
const (
	codecDagCBOR = 0x71
	codecRaw     = 0x55
	sha2_256     = 0x12
)

// base32Lower is the multibase "b" encoding (RFC 4648, lower case, no padding).
func base32Lower() *base32.Encoding {
	return base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
}

// cidOf is the CIDv1 (sha2-256) of data with the codec, in its string form.
func cidOf(codec byte, data []byte) string {
	sum := sha256.Sum256(data)
	raw := append([]byte{0x01, codec, sha2_256, 32}, sum[:]...)
	return "b" + base32Lower().EncodeToString(raw)
}

// parseCID is the binary form of a CIDv1 string ("b" multibase).
func parseCID(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "b")
	if !ok {
		return nil, fmt.Errorf("cid %q: not base32 multibase", s)
	}
	raw, err := base32Lower().DecodeString(rest)
	if err != nil || len(raw) < 4 || raw[0] != 0x01 {
		return nil, fmt.Errorf("cid %q: not a CIDv1", s)
	}
	return raw, nil
}

// errFloat: the AT Protocol data model has no floating-point numbers.
var errFloat = errors.New("floats are not allowed in records")

// recordCID is the cid a PDS gives a record: that of its DAG-CBOR form, in
// which {"$link": cid} is a CID (tag 42) and {"$bytes": base64} bytes.
func recordCID(value json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := encodeCBOR(&buf, v); err != nil {
		return "", err
	}
	return cidOf(codecDagCBOR, buf.Bytes()), nil
}

func encodeCBOR(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteByte(0xf6)
	case bool:
		if x {
			buf.WriteByte(0xf5)
		} else {
			buf.WriteByte(0xf4)
		}
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			return errFloat
		}
		if n >= 0 {
			head(buf, 0, uint64(n))
		} else {
			head(buf, 1, uint64(-(n + 1)))
		}
	case string:
		head(buf, 3, uint64(len(x)))
		buf.WriteString(x)
	case []any:
		head(buf, 4, uint64(len(x)))
		for _, e := range x {
			if err := encodeCBOR(buf, e); err != nil {
				return err
			}
		}
	case map[string]any:
		return encodeMap(buf, x)
	default:
		return fmt.Errorf("unexpected %T in record", v)
	}
	return nil
}

func encodeMap(buf *bytes.Buffer, m map[string]any) error {
	if l, ok := m["$link"].(string); ok && len(m) == 1 {
		raw, err := parseCID(l)
		if err != nil {
			return err
		}
		buf.Write([]byte{0xd8, 42}) // tag 42: a CID, as bytes led by a zero
		head(buf, 2, uint64(len(raw)+1))
		buf.WriteByte(0)
		buf.Write(raw)
		return nil
	}
	if b, ok := m["$bytes"].(string); ok && len(m) == 1 {
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b, "="))
		if err != nil {
			return fmt.Errorf("$bytes: %w", err)
		}
		head(buf, 2, uint64(len(raw)))
		buf.Write(raw)
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// DAG-CBOR's canonical order: shorter keys first, then bytewise.
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	head(buf, 5, uint64(len(keys)))
	for _, k := range keys {
		head(buf, 3, uint64(len(k)))
		buf.WriteString(k)
		if err := encodeCBOR(buf, m[k]); err != nil {
			return err
		}
	}
	return nil
}

// head writes a CBOR item head in its shortest form.
func head(buf *bytes.Buffer, major byte, n uint64) {
	m := major << 5
	switch {
	case n < 24:
		buf.WriteByte(m | byte(n))
	case n <= 0xff:
		buf.Write([]byte{m | 24, byte(n)})
	case n <= 0xffff:
		buf.WriteByte(m | 25)
		buf.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
	case n <= 0xffffffff:
		buf.WriteByte(m | 26)
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
	default:
		buf.WriteByte(m | 27)
		buf.Write(binary.BigEndian.AppendUint64(nil, n))
	}
}
