// Package embed turns text into vectors for semantic search. The default is
// Local, which needs no model download; OpenAI talks to any
// OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM, llama.cpp).
package embed

import "context"

// Embedder turns texts into vectors of a fixed dimension. Vectors from two
// different Model() values are not comparable: stored vectors record the
// model that made them.
type Embedder interface {
	// Model names the model and its settings, e.g. "local-hash-v1-256" or
	// "text-embedding-3-small".
	Model() string
	// Dimensions is the length of every vector Embed returns.
	Dimensions() int
	// Embed returns one L2-normalised vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}
