package tools

import (
	"encoding/json"
	"reflect"
	"sync"
)

// structured is a result's structured content as a Go value that
// encoding/json turns into the same document as the result's bytes.
// mcp-go encodes each response with encoding/json, which re-checks a
// json.RawMessage byte by byte (as json.Compact): for a 12 KB search page
// that costs about three times what encoding the Go value again does, on
// every call. Results whose JSON was reshaped (shortened, warnings added)
// travel as their bytes.
func (t *tool) structured(out any, body []byte) any {
	switch {
	case t.wrap:
		return map[string]any{"result": out}
	case t.ucp == nil:
		return out
	}
	typ, ok := t.enveloped(reflect.TypeOf(out))
	if !ok {
		return json.RawMessage(body)
	}
	v := reflect.New(typ).Elem()
	v.Field(0).Set(reflect.ValueOf(t.ucp.ucp))
	v.Field(1).Set(reflect.ValueOf(out))
	return v.Interface()
}

// envelopedTypes caches, per output type, struct{UCP json.RawMessage
// `json:"ucp"`; Out} (Out embedded, so its fields follow ucp at the top
// level as envelop writes them); nil where Out can't be embedded so.
var envelopedTypes sync.Map // reflect.Type → reflect.Type

func (t *tool) enveloped(out reflect.Type) (reflect.Type, bool) {
	if out == nil {
		return nil, false
	}
	if v, ok := envelopedTypes.Load(out); ok {
		typ, _ := v.(reflect.Type)
		return typ, typ != nil
	}
	var typ reflect.Type
	// reflect.StructOf can't embed a type with methods after another
	// field, and an unnamed or unexported type can't be embedded at all.
	if out.Kind() == reflect.Struct && out.Name() != "" && out.PkgPath() != "" && isExported(out.Name()) &&
		out.NumMethod() == 0 && reflect.PointerTo(out).NumMethod() == 0 {
		typ = reflect.StructOf([]reflect.StructField{
			{Name: "UCP", Type: reflect.TypeFor[json.RawMessage](), Tag: `json:"ucp"`},
			{Name: out.Name(), Type: out, Anonymous: true},
		})
	}
	envelopedTypes.Store(out, typ)
	return typ, typ != nil
}

func isExported(name string) bool { return name[0] >= 'A' && name[0] <= 'Z' }
