package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file holds the flag.Value types the subcommands share. Their Set
// methods return errors that the flag package prefixes with the flag's
// name ("invalid value "x" for flag -max-size: ..."), so every bad value is
// reported against the flag it was given to.

// sizeUnits are the units parseSize accepts, in lower case, with their
// multipliers.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"kb":  1000,
	"mb":  1000 * 1000,
	"gb":  1000 * 1000 * 1000,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
}

// parseSize parses a size in bytes: a non-negative integer, optionally
// followed by a unit, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers
// of 1024), or B, in any case and with optional spaces before the unit.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty size; give bytes or a number with a unit, such as 10MiB")
	}
	if t[0] == '-' {
		return 0, errors.New("a size cannot be negative")
	}
	end := 0
	for end < len(t) && '0' <= t[end] && t[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, errors.New("a size starts with a whole number of bytes or units, such as 10MiB or 5000000")
	}
	unit := strings.TrimSpace(t[end:])
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q; use B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)", unit)
	}
	n, err := strconv.ParseInt(t[:end], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errors.New("size too large")
	}
	return n * mult, nil
}

// byteSize is a flag.Value holding a size in bytes, parsed by parseSize.
type byteSize int64

// String returns the size in bytes.
func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*b), 10)
}

// Set parses s with parseSize.
func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// nameValue is one name=value pair of a repeatable flag such as -meta.
type nameValue struct {
	name, value string
}

// nameValues is a repeatable flag.Value collecting name=value pairs in
// the order they were given.
type nameValues []nameValue

// String returns the pairs as name=value, separated by commas.
func (nv *nameValues) String() string {
	if nv == nil {
		return ""
	}
	parts := make([]string, len(*nv))
	for i, p := range *nv {
		parts[i] = p.name + "=" + p.value
	}
	return strings.Join(parts, ",")
}

// Set appends one pair; s is split at its first '=', so the value may
// itself hold '='. The name must not be empty.
func (nv *nameValues) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		return errors.New("want name=value (no '=' found)")
	case name == "":
		return errors.New("want name=value (the name is empty)")
	}
	*nv = append(*nv, nameValue{name, value})
	return nil
}

// timeValue is a flag.Value holding an instant given in RFC 3339, with or
// without fractional seconds.
type timeValue struct {
	t time.Time
}

// String returns the instant in RFC 3339, or "" when none was set.
func (v *timeValue) String() string {
	if v == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339Nano)
}

// Set parses s with time.RFC3339Nano.
func (v *timeValue) Set(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return errors.New("want an RFC 3339 time such as 2015-12-29T00:00:00Z")
	}
	v.t = t
	return nil
}

// choiceValue is a flag.Value that accepts one of a fixed list of words.
type choiceValue struct {
	value   string
	choices []string
}

// String returns the chosen word.
func (c *choiceValue) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

// Set accepts s if it is one of the choices.
func (c *choiceValue) Set(s string) error {
	for _, ch := range c.choices {
		if s == ch {
			c.value = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(c.choices, ", "))
}
