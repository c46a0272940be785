package view

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	model "github.com/nerve-rollouts/nerve/view"
)

// Status icons of the shared model, for the CLI's own tables (doctor) and for colouring.
const (
	IconWaiting     = model.IconWaiting
	IconProgressing = model.IconProgressing
	IconWarning     = model.IconWarning
	IconUnknown     = model.IconUnknown
	IconOK          = model.IconOK
	IconBad         = model.IconBad
	IconPaused      = model.IconPaused
	IconNeutral     = model.IconNeutral
)

// Kind icons of the tree.
const (
	KindIconRollout     = "⟳"
	KindIconRevision    = "#"
	KindIconReplicaSet  = "⧉"
	KindIconPod         = "□"
	KindIconAnalysisRun = "α"
	KindIconMetric      = "▸"
)

// ANSI colours.
const (
	colorReset  = "\033[0m"
	colorRed    = "\033[31m"
	colorGreen  = "\033[32m"
	colorYellow = "\033[33m"
	colorBlue   = "\033[34m"
	colorGray   = "\033[90m"
)

// Style says how to render.
type Style struct {
	// Color turns on ANSI colour for status icons.
	Color bool
	// Wide adds the resolved queries and every revision.
	Wide bool
	// Revisions limits the revisions shown (0: all).
	Revisions int
	// Now is the reference time for ages and time left.
	Now time.Time
}

// Paint colours an icon (and the text after it) when colour is on.
func (s Style) Paint(icon, text string) string {
	plain := strings.TrimSpace(icon + " " + text)
	if !s.Color {
		return plain
	}
	c := iconColor(icon)
	if c == "" {
		return plain
	}
	return c + plain + colorReset
}

func iconColor(icon string) string {
	switch icon {
	case IconOK:
		return colorGreen
	case IconBad:
		return colorRed
	case IconWarning, IconProgressing:
		return colorYellow
	case IconPaused, IconWaiting:
		return colorBlue
	case IconNeutral, IconUnknown:
		return colorGray
	}
	return ""
}

// WriteRollout writes the header and the tree of r.
func WriteRollout(w io.Writer, r model.Rollout, s Style) error {
	if err := WriteHeader(w, r, s); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	return WriteTree(w, r, s)
}

// WriteHeader writes the key/value header of r.
func WriteHeader(w io.Writer, r model.Rollout, s Style) error {
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%-17s%s\n", k+":", v) }
	kv("Name", r.Name)
	kv("Namespace", r.Namespace)
	kv("Status", s.Paint(r.Icon, r.Status))
	if r.Message != "" {
		kv("Message", r.Message)
	}
	kv("Strategy", r.Strategy)
	if r.Strategy == "Canary" {
		if r.Step != "" {
			kv("  Step", r.Step)
		}
		kv("  SetWeight", r.SetWeight)
		kv("  ActualWeight", r.ActualWeight)
	}
	for i, img := range r.Images {
		key := ""
		if i == 0 {
			key = "Images"
		}
		v := img.Image
		if len(img.Tags) > 0 {
			v += " (" + model.Tags(img.Tags) + ")"
		}
		if key == "" {
			fmt.Fprintf(&b, "%-17s%s\n", "", v)
		} else {
			kv(key, v)
		}
	}
	b.WriteString("Replicas:\n")
	kv("  Desired", fmt.Sprint(r.Desired))
	kv("  Current", fmt.Sprint(r.Current))
	kv("  Updated", fmt.Sprint(r.Updated))
	kv("  Ready", fmt.Sprint(r.Ready))
	kv("  Available", fmt.Sprint(r.Available))
	_, err := io.WriteString(w, b.String())
	return err
}

// cell is a table cell: its visible text and the string written (maybe coloured).
type cell struct{ text, out string }

func plain(s string) cell { return cell{s, s} }

func (s Style) status(icon, text string) cell {
	return cell{strings.TrimSpace(icon + " " + text), s.Paint(icon, text)}
}

// Table writes rows with columns padded to their widest visible text (two spaces apart); the
// last column is not padded.
func Table(w io.Writer, header []string, rows [][]string) error {
	cells := make([][]cell, 0, len(rows))
	for _, r := range rows {
		row := make([]cell, len(r))
		for i, c := range r {
			row[i] = plain(c)
		}
		cells = append(cells, row)
	}
	return writeTable(w, header, cells)
}

func writeTable(w io.Writer, header []string, rows [][]cell) error {
	all := make([][]cell, 0, len(rows)+1)
	if header != nil {
		h := make([]cell, len(header))
		for i, c := range header {
			h[i] = plain(c)
		}
		all = append(all, h)
	}
	all = append(all, rows...)
	widths := map[int]int{}
	for _, r := range all {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	var b strings.Builder
	for _, r := range all {
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c.out)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteTree writes the revision → ReplicaSet → pod tree with the AnalysisRuns and their metrics.
func WriteTree(w io.Writer, r model.Rollout, s Style) error {
	rows := [][]cell{{
		plain(KindIconRollout + " " + r.Name), plain("Rollout"), s.status(r.Icon, r.Status), plain(model.Age(r.Created, s.Now)), plain(""),
	}}
	revs := r.Revisions
	hidden := 0
	if !s.Wide && s.Revisions > 0 && len(revs) > s.Revisions {
		hidden = len(revs) - s.Revisions
		revs = revs[:s.Revisions]
	}
	for i, rev := range revs {
		last := i == len(revs)-1 && hidden == 0
		rows = append(rows, revisionRows(rev, branch(last), indent("", last), s)...)
	}
	if hidden > 0 {
		rows = append(rows, []cell{plain(fmt.Sprintf("└──… %d older revision(s) (--revisions 0 shows all)", hidden)), plain(""), plain(""), plain(""), plain("")})
	}
	return writeTable(w, []string{"NAME", "KIND", "STATUS", "AGE", "INFO"}, rows)
}

func branch(last bool) string {
	if last {
		return "└──"
	}
	return "├──"
}

func indent(prefix string, last bool) string {
	if last {
		return prefix + "   "
	}
	return prefix + "│  "
}

func revisionRows(rev model.Revision, head, prefix string, s Style) [][]cell {
	rows := [][]cell{{plain(head + KindIconRevision + " revision:" + fmt.Sprint(rev.Number)), plain(""), plain(""), plain(""), plain("")}}
	n := len(rev.ReplicaSets) + len(rev.AnalysisRuns)
	k := 0
	for _, rs := range rev.ReplicaSets {
		k++
		last := k == n
		rows = append(rows, []cell{
			plain(prefix + branch(last) + KindIconReplicaSet + " " + rs.Name), plain("ReplicaSet"), s.status(rs.Icon, rs.Status),
			plain(model.Age(rs.Created, s.Now)), plain(model.Tags(rs.Tags)),
		})
		sub := indent(prefix, last)
		for j, p := range rs.Pods {
			info := p.Ready
			if p.Restarts > 0 {
				info += fmt.Sprintf(",restarts:%d", p.Restarts)
			}
			rows = append(rows, []cell{
				plain(sub + branch(j == len(rs.Pods)-1) + KindIconPod + " " + p.Name), plain("Pod"), s.status(p.Icon, p.Status),
				plain(model.Age(p.Created, s.Now)), plain(info),
			})
		}
	}
	for _, ar := range rev.AnalysisRuns {
		k++
		last := k == n
		rows = append(rows, []cell{
			plain(prefix + branch(last) + KindIconAnalysisRun + " " + ar.Name), plain("AnalysisRun"), s.status(ar.Icon, ar.Status),
			plain(model.Age(ar.Created, s.Now)), plain(RunCounts(ar)),
		})
		sub := indent(prefix, last)
		for j, m := range ar.Metrics {
			rows = append(rows, []cell{
				plain(sub + branch(j == len(ar.Metrics)-1) + KindIconMetric + " " + m.Name), plain("Metric"), s.status(m.Icon, m.Phase),
				plain(""), plain(MetricInfo(m, s.Wide)),
			})
		}
	}
	return rows
}

// RunCounts is the ✔/✖/?/⚠ counts of an AnalysisRun.
func RunCounts(ar model.AnalysisRun) string {
	var parts []string
	add := func(icon string, n int32) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", icon, n))
		}
	}
	add(IconOK, ar.Successful)
	add(IconBad, ar.Failed)
	add(IconUnknown, ar.Inconclusive)
	add(IconWarning, ar.Error)
	return strings.Join(parts, ",")
}

// MetricInfo is the latest value of a metric against its condition.
func MetricInfo(m model.Metric, wide bool) string {
	v := m.Value
	if v == "" {
		v = "(no measurement yet)"
	}
	out := fmt.Sprintf("%s vs %s (%d/%s)", v, orDash(m.Condition), m.Measured, m.Count)
	if wide && m.Query != "" {
		out += " query: " + m.Query
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
