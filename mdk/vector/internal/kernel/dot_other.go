//go:build !amd64 || purego

package kernel

// Dot returns the dot product of a and b; b must be at least as long as a.
func Dot(a, b []float32) float32 { return dotGo(a, b) }
