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
//   - The catalog agent (agent.graphqls, agent.go) is the one thing that is
//     not an operation: its fields carry @agent instead of @op, run a turn
//     of tools/agent (which calls the @op operations itself) and translate
//     its events. The agentChat mutation returns a whole turn; the
//     agentChat subscription starts the turn and streams its events as
//     they happen, completing with the turn, so it needs no bus events;
//     agentConversation(s) read the stored chats.
//     TestParity requires exactly one of @op and @agent on every root field.
//
// Adding a feature: put its types in a new graph/<feature>.graphqls, with
// fields that carry @op naming their operation and, for streamed progress,
// a subscription resolved with watch on the object's ID, adding the
// feature's event types to subscriptionEvents. Then `go tool gqlgen
// generate`, write the resolvers, and refresh the snapshot:
// UPDATE_SCHEMA=1 go test ./graph -run TestSchemaSnapshot.
package graph
