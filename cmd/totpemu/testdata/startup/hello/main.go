// Command hello prints a fixed code and exits: the start-up floor of any
// Go program on this machine, beside which "totpemu code" is measured
// (README, Performance).
package main

import "os"

func main() { os.Stdout.WriteString("123456\n") }
