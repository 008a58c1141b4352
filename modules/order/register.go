package order

import (
	"errors"

	"github.com/hyperrr/hyperrr/mdk"
)

// capCheckout is the UCP capability of the checkout methods.
const capCheckout = "dev.ucp.shopping.checkout"

func (o *ops) register(r *mdk.Registry) error {
	const checkoutShape = " Returns the checkout: line items, totals in minor units (2500 is 25.00) computed by the store, status, and messages saying what is still missing (with the JSONPath of the field)."
	const orderShape = " Returns the order: status, line items with fulfilled quantities, totals in minor units and the permalink."
	const listShape = " Returns a page of orders (default 20, at most 100), each with status, line items, totals in minor units and a cursor; " +
		"total_count (matches over every page); and next_cursor, to pass as cursor for the next page, absent on the last one."
	return errors.Join(
		mdk.Register(r, mdk.Operation[CreateCheckoutInput, UCPCheckout]{
			Name: "create_checkout",
			Description: "Start a checkout from a cart (cart_id) or from line items. Prices come from the catalog. " +
				"Needs a shopper API key; the checkout belongs to that shopper." + checkoutShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectWrite,
			UCP:    &mdk.UCPMethod{Capability: capCheckout, Object: "checkout"},
			Handle: o.createCheckout,
		}),
		mdk.Register(r, mdk.Operation[CheckoutIDInput, UCPCheckout]{
			Name: "get_checkout", Description: "Get a checkout session by ID." + checkoutShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectRead, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: capCheckout, IDParam: true, Resource: "checkouts"},
			Handle: o.getCheckout,
		}),
		mdk.Register(r, mdk.Operation[UpdateCheckoutInput, UCPCheckout]{
			Name: "update_checkout",
			Description: "Set the buyer (email, name), the shipping address, the shipping option (one of fulfillment_options) " +
				"and the payment token; fields left out keep their value. The checkout becomes ready_for_complete when nothing is missing." + checkoutShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectWrite, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: capCheckout, Object: "checkout", IDParam: true},
			Handle: o.updateCheckout,
		}),
		mdk.Register(r, mdk.Operation[CompleteCheckoutInput, UCPCheckout]{
			Name: "complete_checkout",
			Description: "Place the order: reserves stock, authorizes the payment and confirms the order, or undoes all of it on failure " +
				"(payment_declined, out_of_stock). Retrying with the same idempotency key returns the first result and never charges twice. " +
				"When the status comes back requires_escalation, send the buyer to continue_url." + checkoutShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectWrite, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: capCheckout, Object: "checkout", IDParam: true, IdempotencyKey: "idempotency_key"},
			Handle: o.completeCheckout,
		}),
		mdk.Register(r, mdk.Operation[CancelCheckoutInput, UCPCheckout]{
			Name: "cancel_checkout", Description: "Cancel a checkout that was not completed. Canceling twice is harmless." + checkoutShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectDestructive, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: capCheckout, IDParam: true, IdempotencyKey: "idempotency_key"},
			Handle: o.cancelCheckout,
		}),
		mdk.Register(r, mdk.Operation[OrderIDInput, UCPOrder]{
			Name: "get_order", Description: "Get an order by ID." + orderShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectRead, Idempotent: true,
			UCP:    &mdk.UCPMethod{Capability: "dev.ucp.shopping.order", IDParam: true, Resource: "orders"},
			Handle: o.getOrder,
		}),
		mdk.Register(r, mdk.Operation[MyOrdersInput, OrderList]{
			Name: "list_my_orders", Description: "List the calling shopper's placed orders, newest first, optionally by status." + listShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectRead, Idempotent: true,
			Handle: o.listMyOrders,
		}),
		mdk.Register(r, mdk.Operation[OrderIDInput, UCPOrder]{
			Name: "cancel_order", Description: "Cancel an order that has not been fulfilled yet; the payment is voided and the items go back to stock. Canceling twice is harmless." + orderShape,
			Access: mdk.AccessShopper, Effect: mdk.EffectDestructive, Idempotent: true,
			Handle: o.cancelOrder,
		}),
		mdk.Register(r, mdk.Operation[OrderFilter, OrderList]{
			Name: "list_orders", Description: "List placed orders of every customer, newest first, optionally by status, customer and time placed." + listShape,
			Access: mdk.AccessMerchant, Effect: mdk.EffectRead, Idempotent: true,
			Handle: o.listOrders,
		}),
		mdk.Register(r, mdk.Operation[FulfillInput, UCPOrder]{
			Name: "fulfill_order", Description: "Mark a confirmed order shipped with its tracking number; captures the payment. Repeating it with the same tracking number returns the order." + orderShape,
			Access: mdk.AccessMerchant, Effect: mdk.EffectWrite, Idempotent: true,
			Handle: o.fulfillOrder,
		}),
		mdk.Register(r, mdk.Operation[OrderIDInput, UCPOrder]{
			Name: "mark_delivered", Description: "Mark a fulfilled order delivered to the buyer. Marking it again is harmless." + orderShape,
			Access: mdk.AccessMerchant, Effect: mdk.EffectWrite, Idempotent: true,
			Handle: o.markDelivered,
		}),
		mdk.Register(r, mdk.Operation[RefundInput, UCPOrder]{
			Name: "refund_order", Description: "Refund a fulfilled order in full (no lines) or some units of some lines. " +
				"Set restock to true when the refunded units came back and can be sold again: they return to stock (by default they don't, as the order has shipped)." + orderShape,
			Access: mdk.AccessMerchant, Effect: mdk.EffectDestructive,
			Handle: o.refundOrder,
		}),
	)
}
