// Package modules holds the commerce modules, one package each
// (modules/product, modules/cart, modules/order). A module implements
// mdk.Module, owns one SQL schema (its migrations are in migrations/<schema>)
// and never imports another module: it reaches one through an interface it
// declares (mdk.Lookup), events, or workflow steps registered by ID. The
// gateway's Builtin list is the one place that names them.
package modules
