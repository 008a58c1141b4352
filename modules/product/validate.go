package product

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hyperrr/hyperrr/mdk"
)

// Limits keep one product a reasonable size for an agent's context window,
// a search document and a single transaction. They are checked with field
// paths so the caller can fix the one input that broke them.
const (
	maxTitleLen       = 255
	maxDescriptionLen = 64 << 10
	maxShortText      = 255
	maxCategoryLen    = 500
	maxTags           = 100
	maxTagLen         = 100
	maxAttributes     = 100
	maxAttrValueLen   = 1000
	maxMedia          = 50
	maxURLLen         = 2048
	maxOptions        = 5
	maxOptionValues   = 100
	maxVariants       = 250
	maxSKULen         = 100
	maxBarcodeLen     = 64
	// maxAmount is far below UCP's 2^53-1 limit on amounts and leaves room
	// for line totals.
	maxAmount = 100_000_000_000_000
	maxWeight = 10_000_000 // 10 t in grams
	maxStock  = 1_000_000_000
)

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

// CodeOutOfStock is returned when a reservation asks for more units than
// are available.
const CodeOutOfStock mdk.Code = "out_of_stock"

// Validate checks a ProductInput on its own, before any store access:
// required fields, sizes, option combinations and duplicates within the
// input. Handle and SKU uniqueness against the catalog are checked by the
// store. Every problem is an invalid (or, for duplicates, conflict) error
// on its field path, joined.
func (in ProductInput) Validate() error {
	in = in.normalized()
	var errs fieldErrors
	add := errs.add
	add(checkTitle("title", in.Title))
	if in.Handle != "" {
		add(checkHandle("handle", in.Handle))
	}
	add(checkText("external_id", in.ExternalID, maxShortText))
	add(checkText("description", in.Description, maxDescriptionLen))
	add(checkText("vendor", in.Vendor, maxShortText))
	add(checkText("product_type", in.ProductType, maxShortText))
	add(checkCategory("category", in.Category))
	add(checkTags("tags", in.Tags)...)
	add(checkAttributes("attributes", in.Attributes)...)
	add(checkMedia("media", in.Media)...)
	if in.Status != "" {
		add(checkStatus("status", in.Status))
	}
	optErrs := checkOptions("options", in.Options)
	add(optErrs...)
	switch {
	case len(in.Variants) == 0:
		add(mdk.Invalid("variants", "give at least one variant (a product without options has one, with its SKU and price)"))
	case len(in.Variants) > maxVariants:
		add(mdk.Invalid("variants", "at most %d variants per product; split the product", maxVariants))
	case len(in.Options) == 0 && len(in.Variants) > 1:
		add(mdk.Invalid("variants", "a product without options has exactly one variant; add options (e.g. Size) to sell %d variants", len(in.Variants)))
	}
	skus := map[string]int{}
	combos := map[string]int{}
	for i, v := range in.Variants {
		path := fmt.Sprintf("variants[%d]", i)
		add(v.check(path)...)
		if first, dup := skus[v.SKU]; dup && v.SKU != "" {
			add(&mdk.Error{Code: mdk.CodeConflict, Field: path + ".sku", Message: fmt.Sprintf("SKU %q is also used by variants[%d]; every variant needs its own SKU", v.SKU, first)})
		} else {
			skus[v.SKU] = i
		}
		if len(optErrs) > 0 {
			continue // option errors would repeat for every variant
		}
		if err := checkVariantOptions(path+".options", in.Options, v.Options); err != nil {
			add(err)
			continue
		}
		key := comboKey(in.Options, v.Options)
		if first, dup := combos[key]; dup && len(in.Options) > 0 {
			add(&mdk.Error{Code: mdk.CodeConflict, Field: path + ".options", Message: fmt.Sprintf("variants[%d] already has the options %s; each variant needs its own combination", first, variantTitle(in.Options, v.Options))})
		} else {
			combos[key] = i
		}
	}
	return errs.err()
}

// normalized trims what people and agents pad by accident, so "  Oak " and
// "Oak" are the same option value and the same tag.
func (in ProductInput) normalized() ProductInput {
	in.Handle = strings.TrimSpace(in.Handle)
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.Vendor = strings.TrimSpace(in.Vendor)
	in.ProductType = strings.TrimSpace(in.ProductType)
	in.Category = normalizeCategory(in.Category)
	in.Tags = normalizeTags(in.Tags)
	in.Media = trimAll(in.Media)
	in.Options = normalizeOptions(in.Options)
	variants := make([]VariantInput, len(in.Variants))
	for i, v := range in.Variants {
		variants[i] = v.normalized()
	}
	in.Variants = variants
	if in.Status == "" {
		in.Status = StatusActive
	}
	return in
}

func (v VariantInput) normalized() VariantInput {
	v.SKU = strings.TrimSpace(v.SKU)
	v.Barcode = strings.TrimSpace(v.Barcode)
	if len(v.Options) > 0 {
		opts := make(map[string]string, len(v.Options))
		for k, val := range v.Options {
			opts[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		v.Options = opts
	}
	return v
}

// check validates one variant's own fields under path ("variants[2]").
func (v VariantInput) check(path string) []error {
	var errs []error
	if err := checkSKU(joinPath(path, "sku"), v.SKU); err != nil {
		errs = append(errs, err)
	}
	if err := checkAmount(joinPath(path, "price"), v.Price); err != nil {
		errs = append(errs, err)
	}
	if v.CompareAtPrice != nil {
		if err := checkAmount(joinPath(path, "compare_at_price"), *v.CompareAtPrice); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkText(joinPath(path, "barcode"), v.Barcode, maxBarcodeLen); err != nil {
		errs = append(errs, err)
	}
	if v.WeightGrams < 0 || v.WeightGrams > maxWeight {
		errs = append(errs, mdk.Invalid(joinPath(path, "weight_grams"), "must be between 0 and %d grams", maxWeight))
	}
	if v.Stock != nil {
		if err := checkStock(joinPath(path, "stock"), *v.Stock); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// fieldErrors collects the field errors of one input, so a caller fixes
// every bad field in one round trip instead of one per call.
type fieldErrors []error

// add appends the non-nil errors.
func (f *fieldErrors) add(errs ...error) {
	for _, e := range errs {
		if e != nil {
			*f = append(*f, e)
		}
	}
}

// err joins the collected errors; nil when there are none.
func (f fieldErrors) err() error { return errors.Join(f...) }

// joinPath appends a field name to a path; an empty path is the root.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func checkTitle(field, s string) error {
	if s == "" {
		return mdk.Invalid(field, "is required: give the product a title")
	}
	return checkText(field, s, maxTitleLen)
}

func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return mdk.Invalid(field, "is not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return mdk.Invalid(field, "is %d characters long; at most %d are allowed", n, max)
	}
	return nil
}

func checkHandle(field, h string) error {
	if len(h) > maxHandleLen || !handleRe.MatchString(h) {
		return mdk.Invalid(field, "%q is not a handle: use lower-case letters, digits and single hyphens, e.g. oak-coffee-table (at most %d characters)", h, maxHandleLen)
	}
	return nil
}

func checkStatus(field string, s Status) error {
	switch s {
	case StatusDraft, StatusActive, StatusArchived:
		return nil
	}
	return mdk.Invalid(field, "%q is not a status: use draft, active or archived", s)
}

func checkSKU(field, sku string) error {
	if sku == "" {
		return mdk.Invalid(field, "is required: every variant needs a unique SKU, e.g. OAK-TABLE-120")
	}
	if strings.IndexFunc(sku, unicode.IsControl) >= 0 {
		return mdk.Invalid(field, "must not contain control characters")
	}
	return checkText(field, sku, maxSKULen)
}

func checkAmount(field string, amount int64) error {
	if amount < 0 {
		return mdk.Invalid(field, "must be zero or more, in minor units of the store currency (2500 is 25.00)")
	}
	if amount > maxAmount {
		return mdk.Invalid(field, "%d is more than the largest amount allowed (%d minor units)", amount, int64(maxAmount))
	}
	return nil
}

func checkStock(field string, n int64) error {
	if n < 0 || n > maxStock {
		return mdk.Invalid(field, "must be between 0 and %d units", maxStock)
	}
	return nil
}

// normalizeCategory trims each segment of a "A / B / C" path and joins them
// with the canonical separator, so "Furniture/Tables" and
// "Furniture / Tables " are one category.
func normalizeCategory(c string) string {
	if strings.TrimSpace(c) == "" {
		return ""
	}
	parts := strings.Split(c, "/")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, " / ")
}

func checkCategory(field, c string) error {
	if c == "" {
		return nil
	}
	if slices.Contains(strings.Split(c, " / "), "") {
		return mdk.Invalid(field, "%q has an empty segment: write the path as Furniture / Tables / Coffee Tables", c)
	}
	return checkText(field, c, maxCategoryLen)
}

func normalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func checkTags(field string, tags []string) []error {
	if len(tags) > maxTags {
		return []error{mdk.Invalid(field, "at most %d tags", maxTags)}
	}
	var errs []error
	for i, t := range tags {
		if err := checkText(fmt.Sprintf("%s[%d]", field, i), t, maxTagLen); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func checkAttributes(field string, attrs map[string]string) []error {
	if len(attrs) > maxAttributes {
		return []error{mdk.Invalid(field, "at most %d attributes", maxAttributes)}
	}
	var errs []error
	for _, k := range sortedKeys(attrs) {
		path := field + "." + k
		if strings.TrimSpace(k) == "" {
			errs = append(errs, mdk.Invalid(field, "an attribute name is empty; name every attribute, e.g. material"))
			continue
		}
		if err := checkText(path, k, maxShortText); err != nil {
			errs = append(errs, err)
		}
		if err := checkText(path, attrs[k], maxAttrValueLen); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func trimAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

func checkMedia(field string, media []string) []error {
	if len(media) > maxMedia {
		return []error{mdk.Invalid(field, "at most %d images", maxMedia)}
	}
	var errs []error
	for i, m := range media {
		path := fmt.Sprintf("%s[%d]", field, i)
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(m) > maxURLLen {
			errs = append(errs, mdk.Invalid(path, "%q is not an image URL: give an absolute http(s) URL", m))
		}
	}
	return errs
}

func normalizeOptions(opts []Option) []Option {
	out := make([]Option, len(opts))
	for i, o := range opts {
		out[i] = Option{Name: strings.TrimSpace(o.Name), Values: trimAll(o.Values)}
	}
	return out
}

// checkOptions validates option names and values: names unique
// (ignoring case, since "size" and "Size" would confuse shoppers), values
// non-empty and unique within their option.
func checkOptions(field string, opts []Option) []error {
	if len(opts) > maxOptions {
		return []error{mdk.Invalid(field, "at most %d options (such as Size, Color, Material)", maxOptions)}
	}
	var errs []error
	names := map[string]int{}
	for i, o := range opts {
		path := fmt.Sprintf("%s[%d]", field, i)
		if o.Name == "" {
			errs = append(errs, mdk.Invalid(path+".name", "is required, e.g. Size"))
		} else if err := checkText(path+".name", o.Name, maxShortText); err != nil {
			errs = append(errs, err)
		} else if first, dup := names[strings.ToLower(o.Name)]; dup {
			errs = append(errs, mdk.Invalid(path+".name", "%q repeats options[%d]; option names must differ", o.Name, first))
		} else {
			names[strings.ToLower(o.Name)] = i
		}
		if len(o.Values) == 0 || len(o.Values) > maxOptionValues {
			errs = append(errs, mdk.Invalid(path+".values", "give between 1 and %d values, e.g. S, M, L", maxOptionValues))
			continue
		}
		seen := map[string]int{}
		for j, v := range o.Values {
			vpath := fmt.Sprintf("%s.values[%d]", path, j)
			if v == "" {
				errs = append(errs, mdk.Invalid(vpath, "is empty"))
			} else if err := checkText(vpath, v, maxShortText); err != nil {
				errs = append(errs, err)
			} else if first, dup := seen[v]; dup {
				errs = append(errs, mdk.Invalid(vpath, "%q repeats values[%d]", v, first))
			} else {
				seen[v] = j
			}
		}
	}
	return errs
}

// checkVariantOptions checks that a variant sets exactly the product's
// options, each to one of its values. field is the variant's options path;
// errors name the option ("variants[1].options.Size").
func checkVariantOptions(field string, opts []Option, chosen map[string]string) error {
	if len(opts) == 0 {
		if len(chosen) > 0 {
			return mdk.Invalid(field, "this product has no options, so its variant takes none; add options to the product first")
		}
		return nil
	}
	var errs []error
	for _, o := range opts {
		v, ok := chosen[o.Name]
		switch {
		case !ok:
			errs = append(errs, mdk.Invalid(field+"."+o.Name, "is required: choose one of %s", strings.Join(o.Values, ", ")))
		case !slices.Contains(o.Values, v):
			errs = append(errs, mdk.Invalid(field+"."+o.Name, "%q is not a value of %s: choose one of %s (or add it to the product's options first)", v, o.Name, strings.Join(o.Values, ", ")))
		}
	}
	for _, k := range sortedKeys(chosen) {
		if !slices.ContainsFunc(opts, func(o Option) bool { return o.Name == k }) {
			errs = append(errs, mdk.Invalid(field+"."+k, "the product has no option %q; its options are %s", k, optionNames(opts)))
		}
	}
	return errors.Join(errs...)
}

func optionNames(opts []Option) string {
	names := make([]string, len(opts))
	for i, o := range opts {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

// comboKey identifies a variant's combination of option values.
func comboKey(opts []Option, chosen map[string]string) string {
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = chosen[o.Name]
	}
	return strings.Join(parts, "\x00")
}

// defaultVariantTitle is the title of the one variant of a product without
// options.
const defaultVariantTitle = "Default"

// variantTitle is the variant's option values in the product's option
// order, "Red / Large", or Default for a product without options.
func variantTitle(opts []Option, chosen map[string]string) string {
	if len(opts) == 0 {
		return defaultVariantTitle
	}
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = chosen[o.Name]
	}
	return strings.Join(parts, " / ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
