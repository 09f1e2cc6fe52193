package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// errUnhealthy is wrapped when the target answered, but not healthy.
var errUnhealthy = errors.New("unhealthy")

// maxBody bounds what is read of an answer; a health answer is tiny.
const maxBody = 64 << 10

// checkHTTP is healthy on a 2xx answer to GET u.
func checkHTTP(ctx context.Context, u *url.URL) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", u, err)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: %s answered %s: %s", errUnhealthy, u, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// servingStatus is grpc.health.v1.HealthCheckResponse.ServingStatus SERVING.
const servingStatus = 1

// checkGRPC calls grpc.health.v1.Health/Check over plain-text HTTP/2, the
// way a gRPC client does, and is healthy when the answer is SERVING. The path
// of u, if any, names the service to check.
func checkGRPC(ctx context.Context, u *url.URL) error {
	service := strings.TrimPrefix(u.Path, "/")
	endpoint := "http://" + u.Host + "/grpc.health.v1.Health/Check"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(frame(healthRequest(service))))
	if err != nil {
		return fmt.Errorf("request %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("health check %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("health check %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s answered HTTP %s", errUnhealthy, u, resp.Status)
	}
	// A call that fails at once carries its status in the headers
	// ("trailers-only"); otherwise it comes after the body.
	code, msg := resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
	if code == "" {
		code, msg = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	if code != "0" {
		return fmt.Errorf("%w: %s: grpc status %s %s", errUnhealthy, u, code, msg)
	}
	payload, err := unframe(body)
	if err != nil {
		return fmt.Errorf("health check %s: %w", u, err)
	}
	status, err := healthStatus(payload)
	if err != nil {
		return fmt.Errorf("health check %s: %w", u, err)
	}
	if status != servingStatus {
		return fmt.Errorf("%w: %s: serving status %d, want SERVING (1)", errUnhealthy, u, status)
	}
	return nil
}

// healthRequest encodes grpc.health.v1.HealthCheckRequest{service}.
func healthRequest(service string) []byte {
	if service == "" {
		return nil
	}
	b := []byte{1<<3 | 2} // field 1, length-delimited
	b = binary.AppendUvarint(b, uint64(len(service)))
	return append(b, service...)
}

// frame puts one message into the gRPC length-prefixed framing.
func frame(msg []byte) []byte {
	b := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

// unframe returns the one uncompressed message of a gRPC answer body.
func unframe(body []byte) ([]byte, error) {
	if len(body) < 5 {
		return nil, fmt.Errorf("answer of %d bytes holds no message", len(body))
	}
	if body[0] != 0 {
		return nil, errors.New("answer is compressed")
	}
	n := binary.BigEndian.Uint32(body[1:5])
	if uint64(n) != uint64(len(body)-5) {
		return nil, fmt.Errorf("message length %d, body holds %d bytes", n, len(body)-5)
	}
	return body[5:], nil
}

// healthStatus decodes the status (field 1) of a
// grpc.health.v1.HealthCheckResponse; an absent field is 0 (UNKNOWN).
func healthStatus(msg []byte) (uint64, error) {
	var status uint64
	for len(msg) > 0 {
		tag, n := binary.Uvarint(msg)
		if n <= 0 {
			return 0, errors.New("bad field tag")
		}
		msg = msg[n:]
		field, wire := tag>>3, tag&7
		switch wire {
		case 0: // varint
			v, n := binary.Uvarint(msg)
			if n <= 0 {
				return 0, errors.New("bad varint")
			}
			msg = msg[n:]
			if field == 1 {
				status = v
			}
		case 1: // fixed64
			if len(msg) < 8 {
				return 0, errors.New("short fixed64")
			}
			msg = msg[8:]
		case 2: // length-delimited
			l, n := binary.Uvarint(msg)
			if n <= 0 || uint64(len(msg)-n) < l {
				return 0, errors.New("bad length")
			}
			msg = msg[n+int(l):]
		case 5: // fixed32
			if len(msg) < 4 {
				return 0, errors.New("short fixed32")
			}
			msg = msg[4:]
		default:
			return 0, fmt.Errorf("wire type %d not supported", wire)
		}
	}
	return status, nil
}
