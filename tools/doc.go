// Package tools turns the operation registry into tools for LLMs: the MCP
// server (mcp-go) for shopping agents and the function tools of the
// merchant catalog agent (openai-go). Tools are generated from registered
// operations; there is no second list of them.
package tools
