// Command verifier is a small TOTP verifier for the command target's
// tests: it accepts the code given as its last argument (or after --code)
// when it is the code of $TOTPEMU_SECRET within $VERIFIER_BACK steps back
// and $VERIFIER_FORWARD steps ahead (default 1 and 1) of $TOTPEMU_NOW_MS
// (or the system clock). With $VERIFIER_STATE set to a directory, it
// remembers the codes it accepted per secret and refuses them again.
// Exit 0: accepted; 1: refused; 2: bad input.
//
// "verifier bind CODE1 CODE2" binds: it accepts two consecutive codes
// around now and marks the key bound in $VERIFIER_STATE; with
// $VERIFIER_REQUIRE_BIND=1, codes of a key not bound are refused.
// $VERIFIER_LOCKOUT=N locks a key for 300 s after N consecutive refusals
// (its right codes too); $VERIFIER_LOCKED says how: "exit:N" (exit
// status N) or "json" (a verdict line {"verdict": "locked", ...}, exit 1).
//
// "verifier enroll uri|base32" is an enroll command: it makes a key, keeps
// it in $VERIFIER_KEYS/$TOTPEMU_ENROLLMENT and prints it as an otpauth URI
// or bare base32. With $VERIFIER_KEYS set, verifying reads the key there
// instead of $TOTPEMU_SECRET.
package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "verifier: no code")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "enroll":
		enroll()
		return
	case "bind":
		if len(os.Args) < 4 {
			fail(2, "bind takes two codes")
		}
		c1, c2 := os.Args[len(os.Args)-2], os.Args[len(os.Args)-1]
		if os.Getenv("TOTPEMU_CODE1") != c1 || os.Getenv("TOTPEMU_CODE2") != c2 {
			fail(2, "arguments and $TOTPEMU_CODE1/2 differ")
		}
		k := loadKey()
		step := now() / 30
		for s := step - num("VERIFIER_BACK", 1) - 1; s <= step+num("VERIFIER_FORWARD", 1); s++ {
			if hotp(k.key, uint64(s)) == c1 && hotp(k.key, uint64(s+1)) == c2 {
				k.mark("bound", "")
				os.Exit(0)
			}
		}
		fail(1, "bind codes refused")
	}
	code := os.Args[len(os.Args)-1]
	for i, a := range os.Args[:len(os.Args)-1] {
		if a == "--code" {
			code = os.Args[i+1]
		}
	}
	if code != os.Getenv("TOTPEMU_CODE") {
		fail(2, "argument and $TOTPEMU_CODE differ")
	}
	k := loadKey()
	t := now()
	if until, _ := strconv.ParseInt(k.read("lock"), 10, 64); until > t {
		locked(until - t)
	}
	if os.Getenv("VERIFIER_REQUIRE_BIND") == "1" && k.read("bound") == "" {
		fail(1, "not bound")
	}
	used := map[string]bool{}
	for _, c := range strings.Fields(k.read("used")) {
		used[c] = true
	}
	step := t / 30
	for s := step - num("VERIFIER_BACK", 1); s <= step+num("VERIFIER_FORWARD", 1); s++ {
		if hotp(k.key, uint64(s)) == code && !used[code] {
			k.mark("used", code)
			k.write("fails", "0")
			os.Exit(0)
		}
	}
	if n := num("VERIFIER_LOCKOUT", 0); n > 0 {
		fails, _ := strconv.ParseInt(k.read("fails"), 10, 64)
		fails++
		k.write("fails", strconv.FormatInt(fails, 10))
		if fails >= n {
			k.write("lock", strconv.FormatInt(t+300, 10))
			k.write("fails", "0")
		}
	}
	fail(1, "code refused")
}

// locked answers "locked" as $VERIFIER_LOCKED says.
func locked(left int64) {
	how := os.Getenv("VERIFIER_LOCKED")
	if n, ok := strings.CutPrefix(how, "exit:"); ok {
		code, _ := strconv.Atoi(n)
		fmt.Fprintln(os.Stderr, "verifier: locked")
		os.Exit(code)
	}
	if how == "json" {
		fmt.Println("checking the code...")
		fmt.Printf("{\"verdict\": \"locked\", \"retry_after_s\": %d, \"reason\": \"too many failures\"}\n", left)
		os.Exit(1)
	}
	fail(1, "locked")
}

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "verifier:", msg)
	os.Exit(code)
}

func now() int64 {
	if ms := os.Getenv("TOTPEMU_NOW_MS"); ms != "" {
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			fail(2, "bad $TOTPEMU_NOW_MS")
		}
		return n / 1000
	}
	return time.Now().Unix()
}

// key is the enrollment's secret and its state files.
type key struct {
	key   []byte
	state string // path prefix in $VERIFIER_STATE, "" without state
}

func loadKey() key {
	secret := os.Getenv("TOTPEMU_SECRET")
	if dir := os.Getenv("VERIFIER_KEYS"); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, filepath.Base(os.Getenv("TOTPEMU_ENROLLMENT"))))
		if err != nil {
			fail(2, err.Error())
		}
		secret = strings.TrimSpace(string(b))
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(b) == 0 {
		fail(2, "bad $TOTPEMU_SECRET")
	}
	k := key{key: b}
	if dir := os.Getenv("VERIFIER_STATE"); dir != "" {
		h := sha256.Sum256(b)
		k.state = filepath.Join(dir, hex.EncodeToString(h[:8]))
	}
	return k
}

func (k key) read(what string) string {
	if k.state == "" {
		return ""
	}
	b, _ := os.ReadFile(k.state + "." + what)
	return string(b)
}

func (k key) write(what, v string) {
	if k.state != "" {
		if err := os.WriteFile(k.state+"."+what, []byte(v), 0o600); err != nil {
			fail(2, err.Error())
		}
	}
}

// mark appends a line to a state file (the codes used, the bind).
func (k key) mark(what, line string) {
	if k.state == "" {
		return
	}
	f, err := os.OpenFile(k.state+"."+what, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fail(2, err.Error())
	}
	fmt.Fprintln(f, line)
	f.Close()
}

func enroll() {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		os.Exit(2)
	}
	key := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	dir := os.Getenv("VERIFIER_KEYS")
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(os.Getenv("TOTPEMU_ENROLLMENT"))), []byte(key), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "verifier:", err)
		os.Exit(2)
	}
	fmt.Println("enrolled") // only the last line counts
	if len(os.Args) > 2 && os.Args[2] == "base32" {
		fmt.Println(key)
		return
	}
	fmt.Printf("otpauth://totp/Verifier:%s?secret=%s&issuer=Verifier\n", os.Getenv("TOTPEMU_ACCOUNT"), key)
}

func num(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			return n
		}
	}
	return def
}

func hotp(key []byte, counter uint64) string {
	m := hmac.New(sha1.New, key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], counter)
	m.Write(b[:])
	s := m.Sum(nil)
	o := s[len(s)-1] & 15
	v := binary.BigEndian.Uint32(s[o:]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}
