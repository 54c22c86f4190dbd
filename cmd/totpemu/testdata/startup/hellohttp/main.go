// Command hellohttp is hello linked with net/http and html/template, as
// totpemu must be for serve and the bench: the start-up floor of a Go
// program that carries an HTTP server and client (README, Performance).
package main

import (
	_ "html/template"
	_ "net/http"
	"os"
)

func main() { os.Stdout.WriteString("123456\n") }
