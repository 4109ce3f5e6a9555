package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// runCompletion runs "tokend completion bash|zsh|fish": it prints a script
// that completes tokend's commands and their flags in that shell.
func runCompletion(args []string, c *cmdIO) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: tokend completion takes one shell: bash, zsh or fish", errUsage)
	}
	tree := commandTree()
	switch args[0] {
	case "bash":
		writeBash(c.stdout, tree)
	case "zsh":
		fmt.Fprint(c.stdout, "#compdef tokend\n# zsh completion for tokend, through bash's completion functions.\n"+
			"autoload -U +X bashcompinit && bashcompinit\n")
		writeBash(c.stdout, tree)
	case "fish":
		writeFish(c.stdout, tree)
	case "-h", "--help", "help":
		fmt.Fprint(c.stdout, completionHelp)
	default:
		return fmt.Errorf("%w: tokend completion: unknown shell %q; want bash, zsh or fish", errUsage, args[0])
	}
	return nil
}

const completionHelp = `usage: tokend completion bash|zsh|fish

Prints a completion script for the shell. To load it:
  bash: source <(tokend completion bash)        (or save it in /etc/bash_completion.d/tokend)
  zsh:  source <(tokend completion zsh)         (in ~/.zshrc)
  fish: tokend completion fish > ~/.config/fish/completions/tokend.fish
`

// cmdNode is one command word with its subcommands or its flags.
type cmdNode struct {
	name  string
	subs  []cmdNode
	flags []string
}

// commandTree is every command with its flags, read from the commands'
// own help, so that completion cannot drift from them.
func commandTree() []cmdNode {
	top := []cmdNode{
		{name: "serve", flags: helpFlags("serve")},
		{name: "gateway", flags: helpFlags("gateway")},
		{name: "admin-key", subs: []cmdNode{{name: "create", flags: helpFlags("admin-key", "create")}}},
	}
	for _, g := range []string{"apis", "keys", "clients", "users", "signing-keys", "webhooks", "login", "me", "pat", "approvals"} {
		if groups()[g] == nil {
			top = append(top, cmdNode{name: g, flags: helpFlags(g)})
			continue
		}
		n := cmdNode{name: g}
		for _, cmd := range groups()[g] {
			n.subs = append(n.subs, cmdNode{name: cmd.name, flags: helpFlags(g, cmd.name)})
		}
		top = append(top, n)
	}
	return append(top, cmdNode{name: "completion", subs: []cmdNode{{name: "bash"}, {name: "zsh"}, {name: "fish"}}},
		cmdNode{name: "version"}, cmdNode{name: "help"})
}

var helpFlagLine = regexp.MustCompile(`(?m)^  --?([a-z][a-z0-9-]*)`)

// helpFlags runs "tokend <words> -h" and returns the flags its help lists.
func helpFlags(words ...string) []string {
	var out bytes.Buffer
	args := append(slices.Clone(words), "-h")
	run(context.Background(), args, strings.NewReader(""), &out, &out, func(string) string { return "" })
	var flags []string
	for _, m := range helpFlagLine.FindAllStringSubmatch(out.String(), -1) {
		flags = append(flags, "--"+m[1])
	}
	return flags
}

func names(ns []cmdNode) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.name
	}
	return strings.Join(s, " ")
}

func writeBash(w io.Writer, tree []cmdNode) {
	fmt.Fprintf(w, `# bash completion for tokend
_tokend() {
	local cur="${COMP_WORDS[COMP_CWORD]}" cmd="${COMP_WORDS[1]}" sub="${COMP_WORDS[2]}" words=""
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W %q -- "$cur"))
		return
	fi
	case "$cmd" in
`, names(tree))
	for _, n := range tree {
		switch {
		case len(n.subs) > 0:
			fmt.Fprintf(w, "\t%s)\n\t\tif [ \"$COMP_CWORD\" -eq 2 ]; then words=%q; else\n\t\tcase \"$sub\" in\n", n.name, names(n.subs))
			for _, s := range n.subs {
				if len(s.flags) > 0 {
					fmt.Fprintf(w, "\t\t%s) words=%q ;;\n", s.name, strings.Join(s.flags, " "))
				}
			}
			fmt.Fprint(w, "\t\tesac; fi ;;\n")
		case len(n.flags) > 0:
			fmt.Fprintf(w, "\t%s) words=%q ;;\n", n.name, strings.Join(n.flags, " "))
		}
	}
	fmt.Fprint(w, `	esac
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _tokend tokend
`)
}

func writeFish(w io.Writer, tree []cmdNode) {
	fmt.Fprint(w, "# fish completion for tokend\ncomplete -c tokend -f\n")
	fmt.Fprintf(w, "complete -c tokend -n __fish_use_subcommand -a %q\n", names(tree))
	for _, n := range tree {
		in := "__fish_seen_subcommand_from " + n.name
		if len(n.subs) > 0 {
			fmt.Fprintf(w, "complete -c tokend -n '%s; and not __fish_seen_subcommand_from %s' -a %q\n", in, names(n.subs), names(n.subs))
		}
		for _, f := range n.flags {
			fmt.Fprintf(w, "complete -c tokend -n '%s' -l %s\n", in, f[2:])
		}
		for _, s := range n.subs {
			for _, f := range s.flags {
				fmt.Fprintf(w, "complete -c tokend -n '%s; and __fish_seen_subcommand_from %s' -l %s\n", in, s.name, f[2:])
			}
		}
	}
}
