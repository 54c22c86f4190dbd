// Command verifier is a small TOTP verifier for the command target's
// tests: it accepts the code given as its last argument when it is the
// code of $TOTPEMU_SECRET within $VERIFIER_BACK steps back and
// $VERIFIER_FORWARD steps ahead (default 1 and 1) of $TOTPEMU_NOW_MS (or
// the system clock). With $VERIFIER_STATE set to a directory, it
// remembers the codes it accepted per secret and refuses them again.
// Exit 0: accepted; 1: refused; 2: bad input.
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
	if os.Args[1] == "enroll" {
		enroll()
		return
	}
	code := os.Args[len(os.Args)-1]
	if code != os.Getenv("TOTPEMU_CODE") {
		fmt.Fprintln(os.Stderr, "verifier: argument and $TOTPEMU_CODE differ")
		os.Exit(2)
	}
	secret := os.Getenv("TOTPEMU_SECRET")
	if dir := os.Getenv("VERIFIER_KEYS"); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, filepath.Base(os.Getenv("TOTPEMU_ENROLLMENT"))))
		if err != nil {
			fmt.Fprintln(os.Stderr, "verifier:", err)
			os.Exit(2)
		}
		secret = strings.TrimSpace(string(b))
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(key) == 0 {
		fmt.Fprintln(os.Stderr, "verifier: bad $TOTPEMU_SECRET")
		os.Exit(2)
	}
	now := time.Now().Unix()
	if ms := os.Getenv("TOTPEMU_NOW_MS"); ms != "" {
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			os.Exit(2)
		}
		now = n / 1000
	}
	back, fwd := num("VERIFIER_BACK", 1), num("VERIFIER_FORWARD", 1)
	var used map[string]bool
	var state string
	if dir := os.Getenv("VERIFIER_STATE"); dir != "" {
		h := sha256.Sum256(key)
		state = filepath.Join(dir, hex.EncodeToString(h[:8]))
		used = map[string]bool{}
		b, _ := os.ReadFile(state)
		for _, c := range strings.Fields(string(b)) {
			used[c] = true
		}
	}
	step := now / 30
	for k := step - back; k <= step+fwd; k++ {
		if hotp(key, uint64(k)) == code && !used[code] {
			if state != "" {
				f, err := os.OpenFile(state, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
				if err != nil {
					os.Exit(2)
				}
				fmt.Fprintln(f, code)
				f.Close()
			}
			os.Exit(0)
		}
	}
	fmt.Fprintln(os.Stderr, "verifier: code refused")
	os.Exit(1)
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
