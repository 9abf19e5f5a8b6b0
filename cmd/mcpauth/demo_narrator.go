package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"rsc.io/qr"
)

// narrator writes the demo's story to the terminal (stderr). Every method
// is safe for concurrent use: the MCP client calls it from its reading
// goroutine (notifications, elicitations), the devserver and the API from
// their handlers.
//
// While a login is pending it keeps a status line with a countdown: on a
// terminal the last line, redrawn every second; elsewhere a line now and
// then.
type narrator struct {
	w        io.Writer
	tty      bool
	deadline time.Time        // the demo's --timeout; zero if none
	now      func() time.Time // the clock of the countdown

	mu          sync.Mutex
	steps       int
	waiting     bool
	auto        bool
	codeExpires time.Time // from the server's progress notifications
	lastLine    time.Time // not a terminal: when the last waiting line was written
	drawn       bool      // a status line is on the terminal's last line
	stopTick    chan struct{}
	tickDone    chan struct{}
}

// Steps start at the margin, what happens in them at indent, a login's
// details at loginIndent.
const (
	indent      = "      "
	loginIndent = indent + "  "
)

// waitingEvery is how often, when stderr is not a terminal, a pending login
// is reported again.
const waitingEvery = 30 * time.Second

func newNarrator(w io.Writer, tty bool) *narrator {
	return &narrator{w: w, tty: tty, now: time.Now}
}

// write writes s, keeping the status line (if any) below it.
func (n *narrator) write(s string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.writeLocked(s)
}

func (n *narrator) writeLocked(s string) {
	if n.drawn {
		io.WriteString(n.w, "\r\033[K")
		n.drawn = false
	}
	io.WriteString(n.w, s)
	if n.waiting && n.tty {
		n.drawLocked()
	}
}

func (n *narrator) title(s string) { n.write(s + "\n") }

func (n *narrator) blank() { n.write("\n") }

// plain writes a formatted text as it is.
func (n *narrator) plain(format string, args ...any) { n.write(fmt.Sprintf(format, args...)) }

// step announces the next step.
func (n *narrator) step(title string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.steps++
	n.writeLocked(fmt.Sprintf("\n[%d/%d] %s\n", n.steps, demoSteps, title))
}

// say writes one indented line.
func (n *narrator) say(format string, args ...any) {
	n.write(indent + fmt.Sprintf(format, args...) + "\n")
}

// fields writes aligned name/value pairs.
func (n *narrator) fields(kv ...string) {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "%s%-12s %s\n", indent, kv[i], kv[i+1])
	}
	n.write(b.String())
}

// result shows a tool's result, its later lines indented under the first.
func (n *narrator) result(name, text string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "%s← %s: %s\n", indent, name, lines[0])
	pad := strings.Repeat(" ", len([]rune(name))+4)
	for _, l := range lines[1:] {
		fmt.Fprintf(&b, "%s%s%s\n", indent, pad, l)
	}
	n.write(b.String())
}

// userCode finds a device grant's user code (RFC 8628 §6.1: short, often
// two groups of letters) in the elicitation's message, which carries it.
var userCodeInMessage = regexp.MustCompile(`\b[A-Z0-9]{4,}-[A-Z0-9]{4,}\b`)

// showLogin shows the demo's login number num, asked for by an elicitation:
// its message, the link and the code, and on a terminal a QR code of the
// link.
func (n *narrator) showLogin(num int32, mode, message, url string, withQR bool) {
	var b strings.Builder
	in := loginIndent
	fmt.Fprintf(&b, "%s← elicitation/create, mode %q: the server asks this client to show you login #%d:\n", indent, mode, num)
	fmt.Fprintf(&b, "%s%q\n\n", in, message)
	if url != "" {
		fmt.Fprintf(&b, "%s  open  %s\n", in, url)
	}
	if code := userCodeInMessage.FindString(message); code != "" {
		fmt.Fprintf(&b, "%s  code  %s\n", in, code)
	}
	b.WriteString("\n")
	if withQR && n.tty && isWebURL(url) {
		if lines, err := qrLines(url); err == nil {
			for _, l := range lines {
				// Black on bright white whatever the terminal's colours:
				// scanners want dark modules on a light background.
				fmt.Fprintf(&b, "%s\033[30;107m%s\033[0m\n", in, l)
			}
			fmt.Fprintf(&b, "%sThe QR code holds the link. This devserver listens on loopback, so only this machine\n", in)
			fmt.Fprintf(&b, "%scan open it; with a real issuer you would scan it with your phone.\n\n", in)
		}
	}
	n.write(b.String())
}

// startWaiting starts the countdown of a pending login.
func (n *narrator) startWaiting(auto bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.waiting {
		return
	}
	n.waiting, n.auto, n.codeExpires = true, auto, time.Time{}
	if !n.tty {
		n.lastLine = n.now()
		io.WriteString(n.w, indent+n.statusLocked()+"\n")
		return
	}
	n.drawLocked()
	n.stopTick, n.tickDone = make(chan struct{}), make(chan struct{})
	go n.tick(n.stopTick, n.tickDone)
}

// tick redraws the countdown every second until stop is closed.
func (n *narrator) tick(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			n.mu.Lock()
			if n.waiting {
				n.drawLocked()
			}
			n.mu.Unlock()
		}
	}
}

// progress records a progress notification of the pending login: elapsed
// seconds out of the code's lifetime.
func (n *narrator) progress(elapsed, total float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.waiting {
		return
	}
	if total > elapsed {
		n.codeExpires = n.now().Add(time.Duration((total - elapsed) * float64(time.Second)))
	}
	switch {
	case n.tty:
		n.drawLocked()
	case n.now().Sub(n.lastLine) >= waitingEvery:
		n.lastLine = n.now()
		io.WriteString(n.w, indent+n.statusLocked()+"\n")
	}
}

// stopWaiting ends the countdown, if one is running.
func (n *narrator) stopWaiting() {
	n.mu.Lock()
	if !n.waiting {
		n.mu.Unlock()
		return
	}
	n.waiting = false
	if n.drawn {
		io.WriteString(n.w, "\r\033[K")
		n.drawn = false
	}
	stop, done := n.stopTick, n.tickDone
	n.stopTick, n.tickDone = nil, nil
	n.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (n *narrator) drawLocked() {
	io.WriteString(n.w, "\r\033[K"+indent+n.statusLocked())
	n.drawn = true
}

// statusLocked is the countdown line; short enough for one terminal line.
func (n *narrator) statusLocked() string {
	var b strings.Builder
	if n.auto {
		b.WriteString("Waiting for the devserver to approve it…")
	} else {
		b.WriteString("Waiting for your approval…")
	}
	if !n.codeExpires.IsZero() {
		fmt.Fprintf(&b, " code expires in %s;", n.left(n.codeExpires))
	}
	if !n.deadline.IsZero() {
		fmt.Fprintf(&b, " demo stops in %s", n.left(n.deadline))
	}
	return strings.TrimSuffix(b.String(), ";")
}

// left is the time until t, in whole seconds.
func (n *narrator) left(t time.Time) time.Duration {
	return max(t.Sub(n.now()), 0).Round(time.Second)
}

// qrLines draws text as a QR code in Unicode half blocks, two modules per
// character cell (dark modules as ink), with the 4-module quiet zone of
// ISO/IEC 18004.
func qrLines(text string) ([]string, error) {
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		return nil, err
	}
	const quiet = 4
	var lines []string
	for y := -quiet; y < code.Size+quiet; y += 2 {
		var b strings.Builder
		for x := -quiet; x < code.Size+quiet; x++ {
			top, bottom := code.Black(x, y), code.Black(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteRune(' ')
			}
		}
		lines = append(lines, b.String())
	}
	return lines, nil
}

// logHandler returns a slog handler that narrates log records as
// "prefix: message key=value …".
func (n *narrator) logHandler(prefix string, level slog.Level) slog.Handler {
	return &narratorHandler{n: n, prefix: prefix, level: level}
}

type narratorHandler struct {
	n      *narrator
	prefix string
	level  slog.Level
	attrs  []slog.Attr
}

func (h *narratorHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *narratorHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(strings.TrimPrefix(r.Message, "devidp: "))
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if r.Level >= slog.LevelWarn {
		h.n.say("%s %s: %s", h.prefix, r.Level, b.String())
	} else {
		h.n.say("%s: %s", h.prefix, b.String())
	}
	return nil
}

func (h *narratorHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(c.attrs[:len(c.attrs):len(c.attrs)], attrs...)
	return &c
}

// WithGroup ignores groups: the narration is flat.
func (h *narratorHandler) WithGroup(string) slog.Handler { return h }
