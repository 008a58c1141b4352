package gateway

import (
	"fmt"
	"strings"

	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/modules/cart"
	"github.com/hyperrr/hyperrr/modules/order"
	"github.com/hyperrr/hyperrr/modules/product"
	"github.com/hyperrr/hyperrr/tools/agent"
)

// Builtin returns the modules a hyperrr binary runs, the one list of them in
// the code base. Commerce modules join it as they are built.
func Builtin() []mdk.Module {
	return []mdk.Module{product.New(), cart.New(), order.New(), agent.New()}
}

// Order sorts modules so each comes after everything it Requires. Ties keep
// the given order, so start-up is deterministic. A duplicate ID, a missing
// requirement or a cycle is an error naming the modules involved.
func Order(mods []mdk.Module) ([]mdk.Module, error) {
	byID := make(map[string]mdk.Module, len(mods))
	for _, m := range mods {
		if _, dup := byID[m.ID()]; dup {
			return nil, fmt.Errorf("module %s is loaded twice", m.ID())
		}
		byID[m.ID()] = m
	}
	for _, m := range mods {
		for _, req := range m.Requires() {
			if _, ok := byID[req]; !ok {
				return nil, fmt.Errorf("module %s requires %s, which is not loaded", m.ID(), req)
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[string]int, len(mods))
	out := make([]mdk.Module, 0, len(mods))
	var path []string
	var visit func(m mdk.Module) error
	visit = func(m mdk.Module) error {
		switch state[m.ID()] {
		case done:
			return nil
		case visiting:
			start := 0
			for i, id := range path {
				if id == m.ID() {
					start = i
				}
			}
			cycle := append(append([]string(nil), path[start:]...), m.ID())
			return fmt.Errorf("modules require each other in a cycle: %s", strings.Join(cycle, " → "))
		}
		state[m.ID()] = visiting
		path = append(path, m.ID())
		for _, req := range m.Requires() {
			if err := visit(byID[req]); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[m.ID()] = done
		out = append(out, m)
		return nil
	}
	for _, m := range mods {
		if err := visit(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}
