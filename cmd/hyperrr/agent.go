package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hyperrr/hyperrr/gateway"
	"github.com/hyperrr/hyperrr/mdk"
	"github.com/hyperrr/hyperrr/tools/agent"
)

// cliKeyID owns the conversations of `hyperrr agent`: whoever can run it
// on the server's data can do anything a merchant key can.
const cliKeyID = "cli"

func agentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Chat with the catalog agent in the terminal",
		Long: `Agent manages the catalog by chat, with the server's data and configuration
(the same flags and HYPERRR_* variables as serve), as a merchant. Each line
read from stdin is one message; replies stream to stdout. Changes that need
confirmation (archiving, stock to zero, many price changes) are shown exactly
and applied only if you answer y. Ctrl-D ends the chat; --conversation
continues an earlier one. The model is set with HYPERRR_LLM_BASE_URL,
HYPERRR_LLM_MODEL and OPENAI_API_KEY (see the README).`,
		Args: cobra.NoArgs,
	}
	config := gateway.BindFlags(cmd.Flags())
	conversation := cmd.Flags().String("conversation", "", "ID of a conversation to continue")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config()
		if err != nil {
			return err
		}
		log := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.LogFormat)
		g, err := gateway.Open(cmd.Context(), gateway.Options{Config: cfg, Logger: log, KeepOutbox: true})
		if err != nil {
			return err
		}
		defer g.Close()
		svc, err := g.Agent()
		if err != nil {
			return err
		}
		if err := svc.Ready(); err != nil {
			return err
		}
		if err := g.Start(cmd.Context()); err != nil {
			return err
		}
		ctx := mdk.WithPrincipal(cmd.Context(), mdk.Principal{Role: mdk.RoleMerchant, KeyID: cliKeyID})
		c := &chatCLI{svc: svc, in: bufio.NewScanner(cmd.InOrStdin()), out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), conversation: *conversation}
		return c.run(ctx)
	}
	return cmd
}

// chatCLI is one terminal chat.
type chatCLI struct {
	svc          *agent.Service
	in           *bufio.Scanner
	out, errOut  io.Writer
	conversation string
	proposal     *agent.Proposal
	failed       bool
}

func (c *chatCLI) run(ctx context.Context) error {
	fmt.Fprintln(c.errOut, "Catalog agent: type a request, Ctrl-D to quit.")
	for {
		fmt.Fprint(c.out, "> ")
		if !c.in.Scan() {
			break
		}
		line := strings.TrimSpace(c.in.Text())
		if line == "" {
			continue
		}
		c.send(ctx, agent.Request{ConversationID: c.conversation, Message: line})
		for c.proposal != nil && ctx.Err() == nil {
			p := c.proposal
			c.proposal = nil
			fmt.Fprint(c.out, "Apply these changes? [y/N] ")
			if !c.in.Scan() {
				fmt.Fprintln(c.out)
				break
			}
			if answer := strings.ToLower(strings.TrimSpace(c.in.Text())); answer == "y" || answer == "yes" {
				c.send(ctx, agent.Request{ConversationID: c.conversation, Confirm: p.ID})
			} else {
				c.send(ctx, agent.Request{ConversationID: c.conversation, Decline: p.ID})
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := c.in.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	if c.conversation != "" {
		fmt.Fprintf(c.errOut, "\nconversation %s (continue with --conversation %s)\n", c.conversation, c.conversation)
	}
	if c.failed {
		return fmt.Errorf("the last request failed (see above)")
	}
	return nil
}

// send runs one turn and prints its events; a failed turn (its error event
// is also the returned error) is printed on stderr and the chat goes on.
func (c *chatCLI) send(ctx context.Context, req agent.Request) {
	err := c.svc.Chat(ctx, req, c.print)
	c.failed = err != nil
	if err != nil {
		fmt.Fprintf(c.errOut, "\nerror: %s\n", mdk.AsError(err).Message)
	}
}

func (c *chatCLI) print(e agent.Event) {
	switch e.Type {
	case agent.EventConversation:
		c.conversation = e.ConversationID
	case agent.EventText:
		fmt.Fprint(c.out, e.Text)
	case agent.EventToolStarted:
		fmt.Fprintf(c.out, "\n  · %s %s\n", e.Call.Name, e.Call.Arguments)
	case agent.EventToolResult:
		o := e.Outcome
		switch {
		case o.OK:
			fmt.Fprintf(c.out, "  ✓ %s\n", o.Name)
		case len(o.Errors) > 0:
			fmt.Fprintf(c.out, "  ✗ %s: %s\n", o.Name, o.Errors[0].Error())
		}
	case agent.EventConfirmation:
		p := e.Proposal
		fmt.Fprintf(c.out, "\nThese changes need your confirmation (proposal %s):\n%s\nWhy: %s\n", p.ID, p.Summary, strings.Join(p.Reasons, "; "))
		c.proposal = p
	case agent.EventDone:
		fmt.Fprintln(c.out)
	}
}
