package model

// Currency filling: UCP carts, checkouts and orders give amounts as bare
// minor units with one currency for the whole object; GraphQL gives every
// amount as Money. Fill copies the object's currency down after decoding.

// Total is one line of a price breakdown.
type Total struct {
	Type        string  `json:"type"`
	DisplayText *string `json:"display_text"`
	Minor       int64   `json:"amount"`
	currency    string
}

func (t Total) Amount() Money { return Money{Amount: t.Minor, CurrencyCode: t.currency} }

func fillTotals(ts []Total, cur string) {
	for i := range ts {
		ts[i].currency = cur
	}
}

// LineItem is the variant of a line as it was priced.
type LineItem struct {
	ID         string  `json:"id"`
	Title      string  `json:"title"`
	PriceMinor int64   `json:"price"`
	ImageURL   *string `json:"image_url"`
	currency   string
}

func (l LineItem) Price() Money { return Money{Amount: l.PriceMinor, CurrencyCode: l.currency} }

type Buyer struct {
	FirstName   *string `json:"first_name"`
	LastName    *string `json:"last_name"`
	Email       *string `json:"email"`
	PhoneNumber *string `json:"phone_number"`
}

// Cart is a shopper's cart (UCP cart).
type Cart struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	LineItems []CartLine `json:"line_items"`
	Buyer     *Buyer     `json:"buyer"`
	Currency  string     `json:"currency"`
	Totals    []Total    `json:"totals"`
	Messages  []Message  `json:"messages"`
	ExpiresAt *string    `json:"expires_at"`
}

func (c Cart) Lines() []CartLine    { return c.LineItems }
func (c Cart) CurrencyCode() string { return c.Currency }

// Fill copies the currency into every amount.
func (c *Cart) Fill() { fillLines(c.LineItems, c.Totals, c.Currency) }

// CartLine is a line of a cart or checkout.
type CartLine struct {
	ID       string   `json:"id"`
	Quantity int64    `json:"quantity"`
	Item     LineItem `json:"item"`
	Totals   []Total  `json:"totals"`
}

func fillLines(lines []CartLine, totals []Total, cur string) {
	fillTotals(totals, cur)
	for i := range lines {
		lines[i].Item.currency = cur
		fillTotals(lines[i].Totals, cur)
	}
}

// Checkout is a checkout session (UCP checkout).
type Checkout struct {
	ID                  string           `json:"id"`
	Status              string           `json:"status"`
	LineItems           []CartLine       `json:"line_items"`
	Buyer               *Buyer           `json:"buyer"`
	Currency            string           `json:"currency"`
	Totals              []Total          `json:"totals"`
	Messages            []Message        `json:"messages"`
	ContinueURL         *string          `json:"continue_url"`
	ShippingAddress     *Address         `json:"shipping_address"`
	FulfillmentOptionID *string          `json:"fulfillment_option_id"`
	FulfillmentOptions  []ShippingOption `json:"fulfillment_options"`
	Order               *OrderReference  `json:"order"`
}

func (c Checkout) Lines() []CartLine    { return c.LineItems }
func (c Checkout) CurrencyCode() string { return c.Currency }

// Fill copies the currency into every amount.
func (c *Checkout) Fill() {
	fillLines(c.LineItems, c.Totals, c.Currency)
	for i := range c.FulfillmentOptions {
		c.FulfillmentOptions[i].currency = c.Currency
	}
}

type OrderReference struct {
	ID           string `json:"id"`
	PermalinkURL string `json:"permalink_url"`
}

type ShippingOption struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Minor    int64  `json:"amount"`
	currency string
}

func (s ShippingOption) Amount() Money { return Money{Amount: s.Minor, CurrencyCode: s.currency} }

type Address struct {
	FirstName       *string `json:"first_name"`
	LastName        *string `json:"last_name"`
	StreetAddress   *string `json:"street_address"`
	ExtendedAddress *string `json:"extended_address"`
	AddressLocality *string `json:"address_locality"`
	AddressRegion   *string `json:"address_region"`
	AddressCountry  *string `json:"address_country"`
	PostalCode      *string `json:"postal_code"`
}

// Order is a placed order (UCP order).
type Order struct {
	ID            string      `json:"id"`
	CheckoutID    string      `json:"checkout_id"`
	PermalinkURL  string      `json:"permalink_url"`
	Status        string      `json:"status"`
	PaymentStatus *string     `json:"payment_status"`
	LineItems     []OrderLine `json:"line_items"`
	Fulfillment   struct {
		Events []FulfillmentEvent `json:"events"`
	} `json:"fulfillment"`
	Currency      string  `json:"currency"`
	Totals        []Total `json:"totals"`
	RefundedMinor int64   `json:"refunded"`
	PlacedAt      *string `json:"placed_at"`
}

func (o Order) Lines() []OrderLine                    { return o.LineItems }
func (o Order) CurrencyCode() string                  { return o.Currency }
func (o Order) FulfillmentEvents() []FulfillmentEvent { return o.Fulfillment.Events }
func (o Order) Refunded() Money                       { return Money{Amount: o.RefundedMinor, CurrencyCode: o.Currency} }

// Fill copies the currency into every amount.
func (o *Order) Fill() {
	fillTotals(o.Totals, o.Currency)
	for i := range o.LineItems {
		o.LineItems[i].Item.currency = o.Currency
		fillTotals(o.LineItems[i].Totals, o.Currency)
	}
}

type OrderLine struct {
	ID       string        `json:"id"`
	Item     LineItem      `json:"item"`
	Quantity OrderQuantity `json:"quantity"`
	Totals   []Total       `json:"totals"`
	Status   string        `json:"status"`
}

type OrderQuantity struct {
	Original  int64 `json:"original"`
	Total     int64 `json:"total"`
	Fulfilled int64 `json:"fulfilled"`
}

type FulfillmentEvent struct {
	ID             string  `json:"id"`
	OccurredAt     string  `json:"occurred_at"`
	Type           string  `json:"type"`
	TrackingNumber *string `json:"tracking_number"`
}
