package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// row is one figure of the table. ours and base hold one sample per run
// (base may be empty: no baseline); ratio is ours/base per run unless set.
type row struct {
	figure string
	unit   string // "µs", "ms", "MiB", "MB", "" (a count)
	ours   []float64
	base   []float64
	ratio  []float64
	goal   string
	// met judges the medians (ours, and the ratio when there is a base);
	// nil means the figure is reported without a goal.
	met func(ours, ratio float64) bool
	na  string // why the figure could not be measured, if it was not
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile is the p-th percentile (0–100) of d, nearest rank.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func mean(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(max(len(d), 1))
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func format(x []float64, unit string) string {
	if len(x) == 0 {
		return "—"
	}
	num := func(v float64) string {
		switch {
		case unit == "":
			return fmt.Sprintf("%.0f", v)
		case v >= 100:
			return fmt.Sprintf("%.0f", v)
		case v >= 10:
			return fmt.Sprintf("%.1f", v)
		default:
			return fmt.Sprintf("%.2f", v)
		}
	}
	sfx := ""
	if unit != "" {
		sfx = " " + unit
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s) == 1 || s[0] == s[len(s)-1] {
		return num(s[0]) + sfx
	}
	return num(s[0]) + "/" + num(median(s)) + "/" + num(s[len(s)-1]) + sfx
}

func formatRatio(x []float64) string {
	if len(x) == 0 {
		return "—"
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s) == 1 || s[0] == s[len(s)-1] {
		return fmt.Sprintf("%.3f", s[0])
	}
	return fmt.Sprintf("%.3f/%.3f/%.3f", s[0], median(s), s[len(s)-1])
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmcpauth\tbaseline\tratio\tgoal\tmet")
	fmt.Fprintln(tw, "------\t-------\t--------\t-----\t----\t---")
	for _, r := range rows {
		if r.na != "" {
			fmt.Fprintf(tw, "%s\tn/a (%s)\t\t\t%s\t—\n", r.figure, r.na, r.goal)
			continue
		}
		ratio := r.ratio
		if ratio == nil && len(r.base) == len(r.ours) && len(r.base) > 0 {
			for i := range r.ours {
				ratio = append(ratio, r.ours[i]/r.base[i])
			}
		}
		met := "—"
		if r.met != nil {
			met = "no"
			if r.met(median(r.ours), median(ratio)) {
				met = "yes"
			}
		}
		goal := r.goal
		if goal == "" {
			goal = "—"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.figure, format(r.ours, r.unit), format(r.base, r.unit), formatRatio(ratio), goal, met)
	}
	tw.Flush()
}

// ratioAtMost is a goal on the ratio's median.
func ratioAtMost(limit float64) func(float64, float64) bool {
	return func(_, ratio float64) bool { return ratio <= limit }
}

// atMost is a goal on mcpauth's median.
func atMost(limit float64) func(float64, float64) bool {
	return func(ours, _ float64) bool { return ours <= limit }
}

func below(limit float64) func(float64, float64) bool {
	return func(ours, _ float64) bool { return ours < limit }
}
