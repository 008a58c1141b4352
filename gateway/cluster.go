package gateway

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/hyperrr/hyperrr/gateway/deadletter"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/mdk/membus"
	"github.com/hyperrr/hyperrr/mdk/natsbus"
)

// openBus opens the event bus: NATS JetStream when a NATS URL is set (the
// instance joins the cluster), else the in-process bus. Either one's dead
// letters go to mdk.dead_letters, where list_dead_letters reads them.
func (g *Gateway) openBus(ctx context.Context) error {
	g.deadLetters = deadletter.New(g.db)
	if err := deadletter.Register(g.ops, g.deadLetters); err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	log := g.log.With("component", "bus")
	if g.cfg.NATSURL == "" {
		g.busCheck = "bus"
		bus, err := membus.New(membus.Options{Logger: log, Registerer: g.promReg, OnDeadLetter: g.storeDeadLetter})
		if err != nil {
			return fmt.Errorf("event bus: %w", err)
		}
		g.bus = bus
		return nil
	}
	g.busCheck = "nats"
	bus, err := natsbus.New(ctx, natsbus.Options{
		URL: g.cfg.NATSURL, Instance: g.cfg.InstanceID, MaxAge: g.cfg.NATSStreamMaxAge, Replicas: g.cfg.NATSReplicas,
		Logger: log, Registerer: g.promReg, OnDeadLetter: g.storeDeadLetter,
	})
	if err != nil {
		return fmt.Errorf("event bus (HYPERRR_NATS_URL): %w", err)
	}
	g.bus = bus
	return nil
}

// storeDeadLetter persists a dead letter of either bus.
func (g *Gateway) storeDeadLetter(ctx context.Context, d mdk.DeadLetter) error {
	if d.Instance == "" {
		d.Instance = g.cfg.InstanceID
	}
	e := d.Event
	return g.deadLetters.Put(ctx, deadletter.Letter{
		Subscription: d.Subscription, EventID: e.ID, EventType: e.Type, Subject: e.Subject, Data: e.Data, OccurredAt: e.Time,
		Attempts: d.Attempts, Error: d.Error, Instance: d.Instance, DeadAt: d.At,
	})
}

// moduleValues is a module's config section, with the cluster-wide
// settings as defaults of its own keys (HYPERRR_MILVUS_ADDR for
// milvus_addr). Milvus addresses in use are remembered for /readyz.
func (g *Gateway) moduleValues(schema string, environ []string) map[string]string {
	values := sectionValues(schema, environ)
	if _, ok := values["milvus_addr"]; !ok && g.cfg.MilvusAddr != "" {
		values["milvus_addr"] = g.cfg.MilvusAddr
	}
	if addr := values["milvus_addr"]; addr != "" && !slices.Contains(g.milvusAddrs, addr) {
		g.milvusAddrs = append(g.milvusAddrs, addr)
	}
	return values
}

// checkDependencies adds a check per outside service to a readiness
// report and says whether all passed. Milvus is checked by opening a TCP
// connection: enough to tell an unreachable server from a slow query.
func (g *Gateway) checkDependencies(ctx context.Context, checks map[string]string) bool {
	ok := true
	if err := g.bus.Ping(ctx); err != nil {
		checks[g.busCheck] = err.Error()
		ok = false
	} else {
		checks[g.busCheck] = "ok"
	}
	for _, addr := range g.milvusAddrs {
		name := "milvus"
		if len(g.milvusAddrs) > 1 {
			name += " " + addr
		}
		checks[name] = "ok"
		if err := dial(ctx, addr); err != nil {
			checks[name] = err.Error()
			ok = false
		}
	}
	return ok
}

func dial(ctx context.Context, addr string) error {
	host := addr
	if u, err := url.Parse(addr); err == nil && u.Host != "" && strings.Contains(addr, "://") {
		host = u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("unreachable: %w", err)
	}
	return conn.Close()
}
