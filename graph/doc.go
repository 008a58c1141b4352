// Package graph is the GraphQL edge for storefronts and apps: a schema-first
// gqlgen API (graph/*.graphqls, configured by gqlgen.yml at the root) whose
// resolvers call operations through the MDK registry, so access checks,
// validation and error codes are those of every other edge.
//
// The contract, in one place each:
//
//   - @op(name: "...") on a field names the operation it calls; the
//     directive hands the name to Resolver.call, which encodes the input as
//     the operation's JSON, calls Registry.CallJSON and decodes the output
//     into the hand-written models of graph/model (UCP JSON in, GraphQL
//     shape out), so graph never imports a module. TestParity fails when an
//     operation has no field or MCP tool, or a field names no operation.
//   - userErrors maps operation errors to a mutation payload's errors;
//     presentError maps everything else to top-level errors with
//     extensions.code.
//   - Per-row reads go through the request's dataloaders (loaders.go).
//   - Subscriptions use watch: the object now, then again whenever a bus
//     event about its ID (Subject, checkout_id or order_id) changes its
//     status, re-read with the subscriber's principal.
//
// Adding a feature (e.g. the catalog agent's chat): put its types in a new
// graph/<feature>.graphqls, a mutation with @op naming its operation and,
// for streamed progress, a subscription resolved with watch on the
// conversation ID, adding the feature's event types to subscriptionEvents.
// Then `go tool gqlgen generate`, write the resolvers, and refresh the
// snapshot: UPDATE_SCHEMA=1 go test ./graph -run TestSchemaSnapshot.
package graph
