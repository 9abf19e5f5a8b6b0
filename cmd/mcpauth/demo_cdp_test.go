//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// chromiumPackage is the Debian package that provides chromiumPath.
const (
	chromiumPath    = "/usr/bin/chromium"
	chromiumPackage = "chromium"
)

// cdpWait bounds every wait for the browser: it only ends a test that
// would otherwise hang, it measures nothing.
const cdpWait = 30 * time.Second

// cdpBrowser is a headless Chromium driven over the Chrome DevTools Protocol
// on a pipe (--remote-debugging-pipe: NUL-terminated JSON messages on fds
// 3 and 4), so it needs no debugging port and no WebSocket client. It
// drives one page, attached with a flat session.
type cdpBrowser struct {
	t       testing.TB
	cmd     *exec.Cmd
	stderr  *syncBuffer
	toB     io.WriteCloser
	msgs    chan cdpMessage
	next    int
	session string
	events  []cdpMessage
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts headless Chromium with a fresh profile and opens a
// blank page. The browser is closed when the test ends.
func startBrowser(t testing.TB) *cdpBrowser {
	t.Helper()
	toR, toW, err := os.Pipe() // commands: we write, Chromium reads fd 3
	if err != nil {
		t.Fatal(err)
	}
	fromR, fromW, err := os.Pipe() // replies and events: Chromium writes fd 4
	if err != nil {
		t.Fatal(err)
	}
	b := &cdpBrowser{t: t, stderr: &syncBuffer{}, toB: toW, msgs: make(chan cdpMessage, 64)}
	b.cmd = exec.Command(chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "--window-size=900,640",
		"about:blank")
	b.cmd.ExtraFiles = []*os.File{toR, fromW}
	b.cmd.Stderr = b.stderr
	// Its own process group, so that cleanup reaches the renderer and
	// helper processes too.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	toR.Close()
	fromW.Close()
	exited := make(chan struct{})
	go func() {
		b.cmd.Wait()
		close(exited)
	}()
	go b.read(fromR)
	t.Cleanup(func() {
		b.send("", "Browser.close", nil) // polite first; no answer needed
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		toW.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", b.stderr)
		}
	})

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.call(b.session, "Page.enable", nil, nil)
	return b
}

// read delivers Chromium's messages until the pipe closes.
func (b *cdpBrowser) read(r io.Reader) {
	defer close(b.msgs)
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(bytes.TrimSuffix(raw, []byte{0}), &m) == nil {
			b.msgs <- m
		}
	}
}

func (b *cdpBrowser) send(session, method string, params any) (int, error) {
	b.next++
	msg := map[string]any{"id": b.next, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, err
	}
	_, err = b.toB.Write(append(data, 0))
	return b.next, err
}

// receive returns the next message, failing the test after cdpWait.
func (b *cdpBrowser) receive(what string) cdpMessage {
	b.t.Helper()
	select {
	case m, ok := <-b.msgs:
		if !ok {
			b.t.Fatalf("chromium closed the DevTools pipe while waiting for %s; stderr:\n%s", what, b.stderr)
		}
		return m
	case <-time.After(cdpWait):
		b.t.Fatalf("no answer from chromium within %v while waiting for %s", cdpWait, what)
	}
	return cdpMessage{}
}

// call sends a command and decodes its result into result (if not nil);
// events that arrive meanwhile are kept for waitEvent.
func (b *cdpBrowser) call(session, method string, params, result any) {
	b.t.Helper()
	id, err := b.send(session, method, params)
	if err != nil {
		b.t.Fatalf("CDP %s: %v", method, err)
	}
	for {
		m := b.receive(method)
		if m.ID == 0 {
			b.events = append(b.events, m)
			continue
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			b.t.Fatalf("CDP %s: error %d: %s", method, m.Error.Code, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				b.t.Fatalf("CDP %s: result %s: %v", method, m.Result, err)
			}
		}
		return
	}
}

// waitEvent waits for the page's event method, consuming the events kept
// so far.
func (b *cdpBrowser) waitEvent(method string) {
	b.t.Helper()
	for len(b.events) > 0 {
		m := b.events[0]
		b.events = b.events[1:]
		if m.Method == method && m.SessionID == b.session {
			return
		}
	}
	for {
		if m := b.receive(method); m.Method == method && m.SessionID == b.session {
			return
		}
	}
}

// navigate loads url and waits for its load event.
func (b *cdpBrowser) navigate(url string) {
	b.t.Helper()
	b.events = nil
	var res struct {
		ErrorText string `json:"errorText"`
	}
	b.call(b.session, "Page.navigate", map[string]any{"url": url}, &res)
	if res.ErrorText != "" {
		b.t.Fatalf("navigate to %s: %s", url, res.ErrorText)
	}
	b.waitEvent("Page.loadEventFired")
}

// eval evaluates a JavaScript expression in the page and returns its value.
func (b *cdpBrowser) eval(expr string) any {
	b.t.Helper()
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	b.call(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("evaluate %s: %s", expr, res.ExceptionDetails.Text)
	}
	return res.Result.Value
}

// click clicks the element matching selector, as a user would, and waits
// for the page it leads to.
func (b *cdpBrowser) click(selector string) {
	b.t.Helper()
	b.events = nil
	q, _ := json.Marshal(selector)
	if found := b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.click(); return true })()`, q)); found != true {
		b.t.Fatalf("no element %s on the page:\n%s", selector, b.text())
	}
	b.waitEvent("Page.loadEventFired")
}

// fill sets the value of the input matching selector.
func (b *cdpBrowser) fill(selector, value string) {
	b.t.Helper()
	q, _ := json.Marshal(selector)
	v, _ := json.Marshal(value)
	if found := b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.value = %s; return true })()`, q, v)); found != true {
		b.t.Fatalf("no input %s on the page:\n%s", selector, b.text())
	}
}

// text is the page's visible text.
func (b *cdpBrowser) text() string {
	b.t.Helper()
	s, _ := b.eval("document.body ? document.body.innerText : ''").(string)
	return s
}

// screenshot writes a PNG of the page to path.
func (b *cdpBrowser) screenshot(path string) {
	b.t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	b.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &res)
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		b.t.Fatalf("screenshot: not a PNG (%d bytes)", len(png))
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
