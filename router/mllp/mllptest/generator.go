package mllptest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// GenOptions configure a Generator.
type GenOptions struct {
	Seed       uint64
	Patients   int      // size of the synthetic patient pool (default 1000)
	Facilities []string // MSH-4 values to draw from (default FAC1..FAC4)
	App        string   // MSH-3 (default NERVEGEN)
	// TargetSize pads each message with NTE text to about this many bytes (0: natural size).
	TargetSize int
	// Types limits the message types (default all of MessageTypes()).
	Types []string
	// IDPrefix prefixes MSH-10 control ids (default "G") so several generators stay unique.
	IDPrefix string
}

// MessageTypes returns the supported message types.
func MessageTypes() []string {
	return []string{"ADT^A01", "ADT^A04", "ADT^A08", "ADT^A03", "ORU^R01"}
}

// Generator produces synthetic messages, deterministically for a seed. It is
// not safe for concurrent use; give each sender its own (with distinct IDPrefix).
type Generator struct {
	opts GenOptions
	rng  *rand.Rand
	seq  uint64
	sb   strings.Builder
}

// Message is one generated message. Payload is the HL7 text (CR segment ends),
// without MLLP framing. Every value is synthetic.
type Message struct {
	Payload   []byte
	ControlID string
	Type      string
	Patient   string // synthetic PID-3 CX.1
	Facility  string
}

// NewGenerator returns a generator.
func NewGenerator(opts GenOptions) *Generator {
	if opts.Patients <= 0 {
		opts.Patients = 1000
	}
	if len(opts.Facilities) == 0 {
		opts.Facilities = []string{"FAC1", "FAC2", "FAC3", "FAC4"}
	}
	if opts.App == "" {
		opts.App = "NERVEGEN"
	}
	if len(opts.Types) == 0 {
		opts.Types = MessageTypes()
	}
	if opts.IDPrefix == "" {
		opts.IDPrefix = "G"
	}
	return &Generator{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
}

// Next returns the next message: a random type, facility and patient, the
// control id IDPrefix + sequence number.
func (g *Generator) Next() Message {
	typ := g.opts.Types[g.rng.IntN(len(g.opts.Types))]
	pat := g.rng.IntN(g.opts.Patients)
	fac := g.opts.Facilities[g.rng.IntN(len(g.opts.Facilities))]
	return g.Render(typ, fac, g.opts.IDPrefix+strconv.FormatUint(g.seq+1, 10), pat)
}

// Render builds one message of type typ from facility for synthetic patient
// number pat (PID-3 "P<pat>"), for senders that choose these themselves.
func (g *Generator) Render(typ, facility, controlID string, pat int) Message {
	g.seq++
	m := Message{ControlID: controlID, Type: typ, Patient: fmt.Sprintf("P%07d", pat), Facility: facility}
	m.Payload = []byte(g.build(m, pat))
	return m
}

func (g *Generator) build(m Message, pat int) string {
	b := &g.sb
	b.Reset()
	ts := fmt.Sprintf("2026%02d%02d%02d%02d%02d", 1+g.seq%12, 1+g.seq%28, g.seq%24, g.seq%60, (g.seq*7)%60)
	event := m.Type[strings.IndexByte(m.Type, '^')+1:]
	fmt.Fprintf(b, "MSH|^~\\&|%s|%s|NERVE|HOSP|%s||%s^%s|%s|P|2.5\r", g.opts.App, m.Facility, ts, m.Type, msgStruct(m.Type), m.ControlID)
	if strings.HasPrefix(m.Type, "ADT") {
		fmt.Fprintf(b, "EVN|%s|%s\r", event, ts)
	}
	fmt.Fprintf(b, "PID|1||%s^^^NERVE^MR||%s^%s||19%02d%02d%02d|%s\r", m.Patient,
		familyName(pat), givenName(pat), 40+pat%60, 1+pat%12, 1+pat%28, "FMU"[pat%3:pat%3+1])
	if strings.HasPrefix(m.Type, "ADT") {
		fmt.Fprintf(b, "PV1|1|I|WARD%d^%d^1||||DOC%d^SYNTH^DOC\r", pat%9, pat%40, pat%17)
	} else {
		fmt.Fprintf(b, "OBR|1|ORD%d||GLU^GLUCOSE\rOBX|1|NM|GLU^GLUCOSE||%d|mg/dL|70-110|N|||F\r", g.seq, 60+g.rng.IntN(80))
	}
	g.pad(b)
	return b.String()
}

// givenName and familyName are synthetic names (never real patients').
func givenName(pat int) string {
	names := [...]string{"ALEX", "SAM", "ROBIN", "KIM", "JORDAN", "TAYLOR", "CASEY", "RILEY"}
	return names[pat%len(names)]
}

func familyName(pat int) string {
	names := [...]string{"TESTPERSON", "SYNTHETIC", "EXAMPLE", "SAMPLE", "DUMMY", "MOCK"}
	return names[pat%len(names)]
}

func (g *Generator) pad(b *strings.Builder) {
	for i := 1; b.Len() < g.opts.TargetSize; i++ {
		n := min(g.opts.TargetSize-b.Len()-len("NTE|1||\r"), 200)
		if n <= 0 {
			b.WriteString("NTE|" + strconv.Itoa(i) + "|\r")
			return
		}
		fmt.Fprintf(b, "NTE|%d||%s\r", i, strings.Repeat("X", n))
	}
}

func msgStruct(typ string) string {
	switch typ {
	case "ADT^A04", "ADT^A08":
		return "ADT_A01"
	case "ORU^R01":
		return "ORU_R01"
	default:
		return strings.Replace(typ, "^", "_", 1)
	}
}
