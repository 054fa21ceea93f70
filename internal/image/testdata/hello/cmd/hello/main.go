// Command hello is a fixture for the image tests: a tiny HTTP-less main
// package that proves the binary, certificates and zoneinfo are in place.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	_, err := time.LoadLocation("Europe/Berlin")
	fmt.Println("hello", err == nil, os.Getenv("SSL_CERT_FILE"))
}
