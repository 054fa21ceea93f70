// Command cgoapp is an app whose store needs cgo, through a SQLite driver.
package main

import (
	"fmt"
	"net/http"
	"os"

	"example.com/cgoapp/store"
)

func main() {
	if err := store.Open(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
