package tools

import (
	"encoding/json"
	"fmt"
)

// bound shortens the longest list in a result object until the result fits
// in max bytes, so one tool result stays near 8k tokens whatever page size
// was asked for. The result says what was cut and how to get the rest: in
// its messages when it has them (as a UCP warning), else in a "truncated"
// note.
func bound(body []byte, max int, hasMessages bool) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return body, nil //nolint:nilerr // not an object: nothing to shorten
	}
	key, items := "", []json.RawMessage(nil)
	for k, raw := range doc {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil && len(raw) > len(doc[key]) {
			key, items = k, list
		}
	}
	if len(items) < 2 {
		return body, nil
	}
	total := len(items)
	encode := func(n int) ([]byte, error) {
		out := make(map[string]json.RawMessage, len(doc)+1)
		for k, v := range doc {
			out[k] = v
		}
		list, err := json.Marshal(items[:n])
		if err != nil {
			return nil, err
		}
		out[key] = list
		note := fmt.Sprintf("Only the first %d of the %d %s fit in one result (about 8k tokens); call again with a smaller page size (pagination.limit or limit) and follow the cursor to see the rest.", n, total, key)
		if hasMessages {
			var msgs []map[string]any
			if raw, ok := doc["messages"]; ok {
				_ = json.Unmarshal(raw, &msgs) // null or absent: start a new list
			}
			msgs = append(msgs, map[string]any{"type": "warning", "code": "truncated", "path": "$." + key, "content": note})
			if out["messages"], err = json.Marshal(msgs); err != nil {
				return nil, err
			}
		} else {
			if out["truncated"], err = json.Marshal(note); err != nil {
				return nil, err
			}
		}
		return marshal(out)
	}
	// Binary search the longest prefix that fits.
	lo, hi := 1, total-1
	best, err := encode(1)
	if err != nil {
		return nil, err
	}
	for lo <= hi {
		mid := (lo + hi) / 2
		out, err := encode(mid)
		if err != nil {
			return nil, err
		}
		if len(out) <= max {
			best, lo = out, mid+1
		} else {
			hi = mid - 1
		}
	}
	return best, nil
}
