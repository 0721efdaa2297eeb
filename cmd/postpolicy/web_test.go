package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The colours of the page, checked against WCAG 2.1 success criterion
// 1.4.3, Contrast (Minimum), level AA: 4.5:1 for text
// (https://www.w3.org/TR/WCAG21/#contrast-minimum), with the contrast
// ratio and relative luminance as WCAG 2.1 defines them
// (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio,
// https://www.w3.org/TR/WCAG21/#dfn-relative-luminance).

// cssBlock returns the declarations of the first rule of css whose
// selector is exactly selector, from the offset from on.
func cssBlock(t *testing.T, css, selector string, from int) (map[string]string, int) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(selector) + `\s*\{`)
	loc := re.FindStringIndex(css[from:])
	if loc == nil {
		t.Fatalf("style.css has no rule %q", selector)
	}
	start := from + loc[1]
	end := strings.IndexByte(css[start:], '}')
	if end < 0 {
		t.Fatalf("style.css: the rule %q does not end", selector)
	}
	decls := make(map[string]string)
	for d := range strings.SplitSeq(css[start:start+end], ";") {
		name, value, ok := strings.Cut(d, ":")
		if ok {
			decls[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	return decls, start + end
}

// colourScheme returns the custom properties of :root in the light scheme
// and, with dark, with the prefers-color-scheme: dark block applied.
func colourScheme(t *testing.T, css string, dark bool) map[string]string {
	t.Helper()
	vars, _ := cssBlock(t, css, ":root", 0)
	if dark {
		at := strings.Index(css, "@media (prefers-color-scheme: dark)")
		if at < 0 {
			t.Fatal("style.css has no dark colour scheme")
		}
		over, _ := cssBlock(t, css, ":root", at)
		for k, v := range over {
			vars[k] = v
		}
	}
	return vars
}

// resolveColour returns the sRGB colour of a CSS value: #rgb, #rrggbb or
// var(--name) of one of those.
func resolveColour(t *testing.T, value string, vars map[string]string) [3]float64 {
	t.Helper()
	for range 10 {
		name, ok := strings.CutPrefix(value, "var(")
		if !ok {
			break
		}
		value = vars[strings.TrimSuffix(strings.TrimSpace(name), ")")]
	}
	hex := strings.TrimPrefix(value, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	if len(hex) != 6 || len(value) == len(hex) {
		t.Fatalf("%q is not a colour this test reads (#rgb, #rrggbb or var(--x) of one)", value)
	}
	var rgb [3]float64
	for i := range rgb {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		rgb[i] = float64(v) / 255
	}
	return rgb
}

// relativeLuminance is WCAG 2.1's relative luminance of an sRGB colour.
// WCAG 2.1 writes the threshold of the linear segment as 0.03928; sRGB's
// own is 0.04045, and no 8-bit channel value falls between the two.
func relativeLuminance(rgb [3]float64) float64 {
	var lin [3]float64
	for i, c := range rgb {
		if c <= 0.04045 {
			lin[i] = c / 12.92
		} else {
			lin[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*lin[0] + 0.7152*lin[1] + 0.0722*lin[2]
}

// contrastRatio is WCAG 2.1's contrast ratio of two colours, from 1 to 21.
func contrastRatio(a, b [3]float64) float64 {
	la, lb := relativeLuminance(a), relativeLuminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func TestContrastRatio(t *testing.T) {
	white, black := [3]float64{1, 1, 1}, [3]float64{0, 0, 0}
	grey := [3]float64{0x76 / 255.0, 0x76 / 255.0, 0x76 / 255.0}
	for _, tc := range []struct {
		a, b [3]float64
		want float64
	}{
		{white, black, 21},
		{white, white, 1},
		// #767676 on white is the lightest grey that passes AA for
		// text, at 4.54:1, as WebAIM's contrast checker reports.
		{grey, white, 4.54},
	} {
		if got := contrastRatio(tc.a, tc.b); math.Abs(got-tc.want) > 0.005 {
			t.Errorf("contrastRatio(%v, %v) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestPageContrast computes, from style.css, the contrast ratio of the
// page's text colours on their backgrounds, in the light and the dark
// colour scheme, and wants WCAG 2.1 AA's 4.5:1 for each: the buttons (the
// primary ones and the secondary, outlined one), the body text, the muted
// hints (on the page and in the drop zone), links, and the success and
// error messages. Disabled buttons are exempt (WCAG 2.1, 1.4.3).
func TestPageContrast(t *testing.T) {
	b, err := web.ReadFile("web/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
	button, _ := cssBlock(t, css, "button", 0)
	secondary, _ := cssBlock(t, css, "button.secondary", 0)
	for _, dark := range []bool{false, true} {
		scheme := "light"
		if dark {
			scheme = "dark"
		}
		vars := colourScheme(t, css, dark)
		secondaryBg := secondary["background"]
		if secondaryBg == "transparent" {
			secondaryBg = "var(--bg)"
		}
		for _, pair := range []struct{ what, fg, bg string }{
			{"button", button["color"], button["background"]},
			{"secondary button", secondary["color"], secondaryBg},
			{"text", "var(--fg)", "var(--bg)"},
			{"hint", "var(--muted)", "var(--bg)"},
			{"hint in the drop zone", "var(--muted)", "var(--tint)"},
			{"link", "var(--accent)", "var(--bg)"},
			{"success", "var(--ok)", "var(--bg)"},
			{"error", "var(--err)", "var(--bg)"},
		} {
			ratio := contrastRatio(resolveColour(t, pair.fg, vars), resolveColour(t, pair.bg, vars))
			msg := fmt.Sprintf("%s scheme, %s: %s on %s, %.2f:1", scheme, pair.what, pair.fg, pair.bg, ratio)
			if ratio < 4.5 {
				t.Errorf("%s; WCAG 2.1 AA wants 4.5:1 for text", msg)
			} else {
				t.Log(msg)
			}
		}
	}
}
