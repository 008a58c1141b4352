package workflow

import (
	"encoding/json"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
)

// workflow is a registered, validated WorkflowSpec with its steps resolved,
// so that executing a run never looks anything up by name again.
type workflow struct {
	spec   mdk.WorkflowSpec
	nodes  []*node // in declaration order
	byName map[string]*node
}

type node struct {
	index int // position in workflow.nodes, and in a run's node states
	spec  mdk.NodeSpec
	step  mdk.StepSpec
	after []*node
}

// input builds the node's step input; a node without an input mapper gets
// the workflow input unchanged.
func (n *node) input(wfInput json.RawMessage, r mdk.Results) (json.RawMessage, error) {
	if n.spec.Input == nil {
		return wfInput, nil
	}
	return n.spec.Input(wfInput, r)
}

// compile validates spec against the registered steps. Errors name the
// workflow and the offending node, step or cycle, because they surface at
// start-up to whoever wired the module.
func compile(spec mdk.WorkflowSpec, steps map[string]mdk.StepSpec) (*workflow, error) {
	if spec.ID == "" {
		return nil, mdk.Invalid("id", "workflow ID is empty")
	}
	if len(spec.Nodes) == 0 {
		return nil, mdk.Invalid("nodes", "workflow %s has no nodes", spec.ID)
	}
	wf := &workflow{spec: spec, byName: make(map[string]*node, len(spec.Nodes))}
	for _, ns := range spec.Nodes {
		if ns.Name == "" {
			return nil, mdk.Invalid("nodes", "workflow %s has a node without a name", spec.ID)
		}
		if _, dup := wf.byName[ns.Name]; dup {
			return nil, mdk.Invalid("nodes", "workflow %s has two nodes named %q", spec.ID, ns.Name)
		}
		step, ok := steps[ns.StepID]
		if !ok {
			return nil, mdk.Invalid("nodes", "workflow %s node %q uses step %q, which is not registered (register steps before workflows)",
				spec.ID, ns.Name, ns.StepID)
		}
		n := &node{index: len(wf.nodes), spec: ns, step: step}
		wf.nodes = append(wf.nodes, n)
		wf.byName[ns.Name] = n
	}
	for _, n := range wf.nodes {
		for _, a := range n.spec.After {
			dep, ok := wf.byName[a]
			if !ok {
				return nil, mdk.Invalid("nodes", "workflow %s node %q runs after %q, which is not a node of the workflow", spec.ID, n.spec.Name, a)
			}
			n.after = append(n.after, dep)
		}
	}
	if cycle := findCycle(wf.nodes); cycle != nil {
		return nil, mdk.Invalid("nodes", "workflow %s has a cycle: %s", spec.ID, strings.Join(cycle, " -> "))
	}
	return wf, nil
}

// findCycle returns the node names of one cycle in the after graph ("a ->
// b" meaning a runs after b), the first name repeated at the end, or nil
// when the graph is acyclic.
func findCycle(nodes []*node) []string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := make(map[*node]int, len(nodes))
	var path []*node
	var visit func(n *node) []string
	visit = func(n *node) []string {
		state[n] = onPath
		path = append(path, n)
		for _, dep := range n.after {
			switch state[dep] {
			case onPath:
				var names []string
				for i := len(path) - 1; i >= 0; i-- {
					names = append(names, path[i].spec.Name)
					if path[i] == dep {
						break
					}
				}
				// Collected backwards; print it from dep on, so that each
				// arrow reads "runs after", closing the loop.
				for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
					names[i], names[j] = names[j], names[i]
				}
				return append(names, names[0])
			case unvisited:
				if c := visit(dep); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range nodes {
		if state[n] == unvisited {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}
