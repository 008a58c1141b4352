// Package graph is the GraphQL edge for storefronts and apps: a schema-first
// gqlgen API (graph/*.graphqls, configured by gqlgen.yml at the root) whose
// resolvers call operations through the MDK registry, so access checks,
// validation and error codes are those of every other edge.
package graph
