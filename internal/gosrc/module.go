package gosrc

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
)

// ModuleRoot is the directory of the go.mod that holds dir (dir itself or
// the nearest directory above it with a go.mod), as an absolute path; ""
// when there is none.
func ModuleRoot(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// Reason is why a directory is not a Go main package that `go build` can
// build.
type Reason int

// The reasons, in the order CheckMain looks.
const (
	Missing    Reason = iota + 1 // the directory does not exist
	Unreadable                   // it could not be read (Problem.Err says why)
	NotDir                       // it is a file
	NoGoFiles                    // it has no non-test .go files
	NotMain                      // its package is not main (Problem.Package)
	NoModule                     // no go.mod in it or above
)

// Problem says what is wrong with a directory meant as a main package.
// Its message starts with the directory; for NoModule it also says what
// to run. For the other reasons the fix is to point elsewhere, which only
// the caller can word (it knows what named the directory), so the message
// leaves it out.
type Problem struct {
	Reason  Reason
	Dir     string
	Package string // NotMain: the package's name
	Err     error  // Unreadable: the error
}

func (p *Problem) Error() string {
	switch p.Reason {
	case Missing:
		return fmt.Sprintf("%s does not exist", p.Dir)
	case NotDir:
		return fmt.Sprintf("%s is a file, not a package directory", p.Dir)
	case NoGoFiles:
		return fmt.Sprintf("%s has no Go files", p.Dir)
	case NotMain:
		return fmt.Sprintf("%s is package %s, not a main package (one with func main)", p.Dir, p.Package)
	case NoModule:
		return fmt.Sprintf("%s is not inside a Go module (no go.mod in it or above); run 'go mod init <module path>' in the project's root, then 'go mod tidy'", p.Dir)
	}
	return p.Err.Error()
}

func (p *Problem) Unwrap() error { return p.Err }

// CheckMain reports whether dir is a Go main package inside a module, the
// two things `go build` needs from a directory to make a program: nil
// when it is, else a *Problem. Only package clauses are read, so a
// package that does not compile still passes; the build says why.
func CheckMain(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Problem{Reason: Missing, Dir: dir}
	case err != nil:
		return &Problem{Reason: Unreadable, Dir: dir, Err: err}
	case !fi.IsDir():
		return &Problem{Reason: NotDir, Dir: dir}
	}
	names, err := sourceFiles(dir)
	if err != nil {
		return &Problem{Reason: Unreadable, Dir: dir, Err: err}
	}
	pkg := ""
	for _, name := range names {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.PackageClauseOnly)
		if err != nil {
			continue
		}
		if pkg = f.Name.Name; pkg == "main" {
			break
		}
	}
	switch pkg {
	case "":
		return &Problem{Reason: NoGoFiles, Dir: dir}
	case "main":
	default:
		return &Problem{Reason: NotMain, Dir: dir, Package: pkg}
	}
	if ModuleRoot(dir) == "" {
		return &Problem{Reason: NoModule, Dir: dir}
	}
	return nil
}
