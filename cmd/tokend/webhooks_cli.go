package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/tokend/tokend/api"
)

func webhookCommands() []command {
	return []command{
		{"create", "register an endpoint for event types; prints its secret once", webhooksCreate},
		{"list", "list webhook endpoints and the event types they may take", webhooksList},
		{"show", "show one webhook endpoint", webhooksShow},
		{"rotate-secret", "give an endpoint a new signing secret; prints it once", webhooksRotate},
		{"delete", "delete an endpoint with its delivery log", webhooksDelete},
		{"deliveries", "show an endpoint's delivery log, newest first", webhooksDeliveries},
	}
}

func webhooksCreate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var description string
	var events csvFlag
	fs := newFlagSet(c, "webhooks create", "webhooks create ENDPOINT_URL --events TYPE,… [--description D] [--json]",
		"Registers an HTTPS endpoint (on a public address) for event types ('tokend webhooks list' names them). Its signing secret (whsec_…) is printed once; store it then.")
	fs.Var(&events, "events", "event `types` to deliver, comma-separated (repeatable); required")
	fs.StringVar(&description, "description", "", "what the endpoint is for, up to 200 characters")
	pos, cl, err := connect(c, fs, &conn, args, 1, "the endpoint's https URL")
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: --events is required", errUsage)
	}
	created, err := cl.CreateWebhook(ctx, api.CreateWebhookRequest{URL: pos[0], Events: events, Description: description})
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return showCreatedWebhook(c, conn, created)
}

func showCreatedWebhook(c *cmdIO, conn connFlags, created *api.CreatedWebhook) error {
	if conn.json {
		return printJSON(c.stdout, created)
	}
	if err := printWebhook(c.stdout, &created.Webhook); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "\nsigning secret (shown once, store it now; receivers check signatures with it):\n\n    %s\n", created.Secret)
	return nil
}

func webhooksList(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var cursor string
	var limit int
	fs := newFlagSet(c, "webhooks list", "webhooks list [--json]", "Lists webhook endpoints, then the event types an endpoint may subscribe to.")
	fs.StringVar(&cursor, "cursor", "", "start after this `cursor` (next_cursor of the previous page)")
	fs.IntVar(&limit, "limit", 0, "page size, 1 to 500 (default 50)")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	l, err := cl.ListWebhooks(ctx, cursor, limit)
	if err != nil {
		return fmt.Errorf("list webhooks: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	t := newTable(c.stdout)
	t.row("ID", "URL", "EVENTS", "DESCRIPTION", "CREATED")
	for _, w := range l.Webhooks {
		t.row(w.ID, w.URL, list(w.Events), dash(w.Description), when(w.CreatedAt))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if l.NextCursor != "" {
		fmt.Fprintf(c.stdout, "\nmore: --cursor %s\n", l.NextCursor)
	}
	fmt.Fprintf(c.stdout, "\nevent types: %s\n", list(l.EventTypes))
	return nil
}

// oneWebhook parses the flags of a command that takes one endpoint ID.
func oneWebhook(c *cmdIO, name, usage, help string, args []string, extra func(*flag.FlagSet)) (connFlags, string, error) {
	var conn connFlags
	fs := newFlagSet(c, "webhooks "+name, usage, help)
	conn.register(fs)
	if extra != nil {
		extra(fs)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return conn, "", err
	}
	if err := wantArgs(fs, pos, 1, "one webhook ID"); err != nil {
		return conn, "", err
	}
	return conn, pos[0], nil
}

func webhooksShow(ctx context.Context, c *cmdIO, args []string) error {
	conn, id, err := oneWebhook(c, "show", "webhooks show ID [--json]", "Shows one webhook endpoint (never its secret).", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	w, err := cl.GetWebhook(ctx, id)
	if err != nil {
		return fmt.Errorf("show webhook %s: %w", id, err)
	}
	if conn.json {
		return printJSON(c.stdout, w)
	}
	return printWebhook(c.stdout, w)
}

func webhooksRotate(ctx context.Context, c *cmdIO, args []string) error {
	conn, id, err := oneWebhook(c, "rotate-secret", "webhooks rotate-secret ID [--json]",
		"Gives an endpoint a new signing secret, printed once; every delivery from now on, retries included, is signed with it.", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	created, err := cl.RotateWebhookSecret(ctx, id)
	if err != nil {
		return fmt.Errorf("rotate secret of webhook %s: %w", id, err)
	}
	return showCreatedWebhook(c, conn, created)
}

func webhooksDelete(ctx context.Context, c *cmdIO, args []string) error {
	conn, id, err := oneWebhook(c, "delete", "webhooks delete ID", "Deletes an endpoint with its delivery log and its queued deliveries.", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	if err := cl.DeleteWebhook(ctx, id); err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	if !conn.json {
		fmt.Fprintf(c.stdout, "deleted webhook %s\n", id)
	}
	return nil
}

func webhooksDeliveries(ctx context.Context, c *cmdIO, args []string) error {
	var cursor string
	var limit int
	conn, id, err := oneWebhook(c, "deliveries", "webhooks deliveries ID [--cursor msg_…] [--limit N] [--json]",
		"Shows an endpoint's delivery log, newest first: each event's state (pending, delivered, failed), attempts, last answer and error, and when it is next tried.",
		args, func(fs *flag.FlagSet) {
			fs.StringVar(&cursor, "cursor", "", "start after this `cursor` (next_cursor of the previous page)")
			fs.IntVar(&limit, "limit", 0, "page size, 1 to 500 (default 50)")
		})
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	l, err := cl.ListWebhookDeliveries(ctx, id, cursor, limit)
	if err != nil {
		return fmt.Errorf("deliveries of webhook %s: %w", id, err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	return printDeliveries(c.stdout, l)
}

func printDeliveries(w io.Writer, l *api.WebhookDeliveryList) error {
	t := newTable(w)
	t.row("ID", "EVENT", "TYPE", "STATE", "ATTEMPTS", "CODE", "NEXT ATTEMPT", "LAST ERROR")
	for _, d := range l.Deliveries {
		code := "-"
		if d.ResponseCode != 0 {
			code = strconv.Itoa(d.ResponseCode)
		}
		t.row(d.ID, strconv.FormatInt(d.EventID, 10), d.EventType, d.State, strconv.Itoa(d.Attempts), code,
			when(d.NextAttempt), dash(d.LastError))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if l.NextCursor != "" {
		fmt.Fprintf(w, "\nmore: --cursor %s\n", l.NextCursor)
	}
	return nil
}

func printWebhook(w io.Writer, x *api.Webhook) error {
	t := newTable(w)
	t.row("ID:", x.ID)
	t.row("URL:", x.URL)
	t.row("Events:", list(x.Events))
	t.row("Description:", dash(x.Description))
	t.row("Created:", when(x.CreatedAt))
	t.row("Updated:", when(x.UpdatedAt))
	return t.flush()
}
