package emulator

import (
	"fmt"
	"strings"
)

// findAccount finds an account in list by query: its exact Label
// ("Issuer:Name" or "Name"), else its exact Name when only one account has
// it. An empty query finds the only account when there is exactly one.
func findAccount(list []*Account, query string) (int, error) {
	if len(list) == 0 {
		return -1, errNoAccounts
	}
	if query == "" {
		if len(list) == 1 {
			return 0, nil
		}
		return -1, fmt.Errorf("%d accounts: name one of %s", len(list), labels(list))
	}
	for i, a := range list {
		if a.Label() == query {
			return i, nil
		}
	}
	found := -1
	var matches []*Account
	for i, a := range list {
		if a.Name == query {
			found = i
			matches = append(matches, a)
		}
	}
	switch len(matches) {
	case 1:
		return found, nil
	case 0:
		return -1, fmt.Errorf("no account %q: have %s", query, labels(list))
	}
	return -1, fmt.Errorf("account name %q is ambiguous: use ISSUER:NAME, one of %s", query, labels(matches))
}

func labels(list []*Account) string {
	const max = 20
	var b strings.Builder
	for i, a := range list {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(list)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", a.Label())
	}
	return b.String()
}

// checkNewAccount refuses an invalid account or one whose label is taken.
func checkNewAccount(list []*Account, a *Account) error {
	if a == nil {
		return fmt.Errorf("no account")
	}
	if err := a.Validate(); err != nil {
		return err
	}
	for _, b := range list {
		if b.Label() == a.Label() {
			return fmt.Errorf("account %q already exists: remove it first to replace it", a.Label())
		}
	}
	return nil
}
