// Command postpolicy signs Amazon S3 POST policies with AWS Signature
// Version 4 from the command line, with the postpolicy library.
//
// Usage:
//
//	postpolicy <command> [flags]
//
// The commands are:
//
//	sign    sign an upload form and print it as JSON, HTML or a curl command
//
// Run "postpolicy <command> -h" for a command's flags. Credentials come from
// the environment only (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN); the secret is never printed.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// commandFunc runs one subcommand with the arguments after its name, reads
// the environment through env, writes to stdout and stderr, and returns the
// process's exit status: 0 on success, 1 when the work failed, 2 for a
// usage error.
type commandFunc func(args []string, env func(string) string, stdout, stderr io.Writer) int

// command is a subcommand: how to run it and the one line the top-level
// usage shows for it.
type command struct {
	run     commandFunc
	summary string
}

// commands maps each subcommand's name to its implementation. Adding a
// subcommand is adding one entry here.
var commands = map[string]command{
	"sign":    {runSign, "sign an upload form and print it as JSON, HTML or a curl command"},
	"inspect": {runInspect, "explain a policy or form, lint it, and say whether S3 would accept an upload"},
	"serve":   {runServe, "run the browser upload demo: a page, its form endpoint and an embedded S3 POST target"},
}

// main runs the program with the process's arguments, environment and
// standard streams, and exits with the status run returns.
func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program: it dispatches args (without the program name)
// to a subcommand and returns the exit status. env looks up environment
// variables; nothing else is read from the process.
func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if env == nil {
		env = func(string) string { return "" }
	}
	if len(args) == 0 {
		writeUsage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "postpolicy: unknown command %q\n\n", args[1])
				writeUsage(stderr)
				return 2
			}
			return c.run([]string{"-h"}, env, stdout, stderr)
		}
		writeUsage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "postpolicy: unknown command %q\n\n", args[0])
		writeUsage(stderr)
		return 2
	}
	return c.run(args[1:], env, stdout, stderr)
}

// writeUsage writes the top-level usage, listing the subcommands by name.
func writeUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: postpolicy <command> [flags]\n\n")
	b.WriteString("postpolicy signs Amazon S3 POST policies with AWS Signature Version 4,\n")
	b.WriteString("so that a browser can upload a file straight to a bucket.\n\n")
	b.WriteString("Commands:\n")
	names := make([]string, 0, len(commands))
	width := 0
	for name := range commands {
		names = append(names, name)
		width = max(width, len(name))
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, name, commands[name].summary)
	}
	b.WriteString("\nRun 'postpolicy <command> -h' for the flags of a command.\n")
	io.WriteString(w, b.String())
}
