package mdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	gschema "github.com/google/jsonschema-go/jsonschema"
	vschema "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schemas are derived from Go types by google/jsonschema-go (the library
// mcp-go uses, so MCP tool schemas and ours agree) and validated by
// santhosh-tekuri/jsonschema, whose errors carry the exact instance location
// ("variants/2/price"), which field errors need.

// inputValidator validates JSON instances against one derived schema.
type inputValidator struct {
	schema *vschema.Schema
}

func newInputValidator(name string, s *gschema.Schema) (*inputValidator, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	doc, err := vschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	c := vschema.NewCompiler()
	url := "hyperrr:///ops/" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	compiled, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return &inputValidator{schema: compiled}, nil
}

// maxFieldErrors bounds how many field errors one bad input reports.
const maxFieldErrors = 20

var printer = message.NewPrinter(language.English)

// validate checks raw JSON and returns field errors joined, or nil.
func (v *inputValidator) validate(raw []byte) error {
	instance, err := vschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return Invalid("", "input is not valid JSON: %v", err)
	}
	err = v.schema.Validate(instance)
	if err == nil {
		return nil
	}
	var verr *vschema.ValidationError
	if !errors.As(err, &verr) {
		return Invalid("", "%v", err)
	}
	var out []error
	collectLeaves(verr, &out)
	if len(out) == 0 {
		out = append(out, Invalid(fieldPath(verr.InstanceLocation), "%s", verr.ErrorKind.LocalizedString(printer)))
	}
	return errors.Join(out...)
}

func collectLeaves(e *vschema.ValidationError, out *[]error) {
	if len(*out) >= maxFieldErrors {
		return
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collectLeaves(c, out)
		}
		return
	}
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, Invalid(fieldPath(append(loc[:len(loc):len(loc)], m)), "is required"))
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, Invalid(fieldPath(append(loc[:len(loc):len(loc)], p)), "is not a known field"))
		}
		return
	}
	*out = append(*out, Invalid(fieldPath(loc), "%s", e.ErrorKind.LocalizedString(printer)))
}

// fieldPath renders an instance location as variants[2].price.
func fieldPath(loc []string) string {
	var b strings.Builder
	for _, seg := range loc {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}
