package atprotosim

import (
	"bytes"
	"strconv"
)

// The input checks the PDS's XRPC server makes (from the methods'
// lexicons) before credentials and rate limits.

func checkLogin(c *call) *xrpcError {
	var in struct {
		Identifier *string `json:"identifier"`
		Password   *string `json:"password"`
	}
	if jsonUnmarshal(c.body, &in) != nil || in.Identifier == nil || in.Password == nil {
		return badRequest("InvalidRequest", `Input must have the properties "identifier" and "password"`)
	}
	return nil
}

func checkNoBody(c *call) *xrpcError {
	if len(bytes.TrimSpace(c.body)) > 0 {
		return badRequest("InvalidRequest", "A request body was provided when none was expected")
	}
	return nil
}

func checkWrite(c *call) *xrpcError {
	var in struct {
		Repo       string `json:"repo"`
		Collection string `json:"collection"`
		Rkey       string `json:"rkey"`
	}
	if jsonUnmarshal(c.body, &in) != nil {
		return badRequest("InvalidRequest", "Input must be a JSON object")
	}
	return checkKeys(in.Collection, in.Rkey, "$.rkey")
}

func checkWrites(c *call) *xrpcError {
	var in struct {
		Writes []struct {
			Collection string `json:"collection"`
			Rkey       string `json:"rkey"`
		} `json:"writes"`
	}
	if jsonUnmarshal(c.body, &in) != nil {
		return badRequest("InvalidRequest", "Input must be a JSON object")
	}
	for i, w := range in.Writes {
		if xe := checkKeys(w.Collection, w.Rkey, "$.writes["+strconv.Itoa(i)+"].rkey"); xe != nil {
			return xe
		}
	}
	return nil
}

// checkKeys checks a collection NSID and, when given, a record key.
func checkKeys(collection, rkey, at string) *xrpcError {
	if !validNSID(collection) {
		return badRequest("InvalidRequest", "Invalid collection: "+strconv.Quote(collection))
	}
	if rkey != "" && !validRkey(rkey) {
		return badRequest("InvalidRequest", "Invalid record key (got "+strconv.Quote(rkey)+") at "+at)
	}
	return nil
}

func checkList(c *call) *xrpcError {
	if v := c.r.URL.Query().Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			return badRequest("InvalidRequest", "limit must be an integer from 1 to 100")
		}
	}
	return nil
}
