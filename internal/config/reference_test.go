package config

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var updateRef = flag.Bool("update", false, "rewrite docs/CONFIG.md")

const referencePath = "../../docs/CONFIG.md"

// TestConfigReference keeps docs/CONFIG.md (every key, its default and its
// meaning, from the doc comments in the code) in step with the code.
func TestConfigReference(t *testing.T) {
	docs := fieldDocs(t)
	var rows bytes.Buffer
	section := ""
	walkKeys(reflect.ValueOf(Default()), "", func(key string, f reflect.StructField, v reflect.Value, owner reflect.Type) {
		top, _, _ := strings.Cut(key, ".")
		if top != section {
			section = top
			fmt.Fprintf(&rows, "\n### %s\n\n| key | default | meaning |\n|---|---|---|\n", top)
		}
		doc := docs[path.Base(owner.PkgPath())+"."+owner.Name()+"."+f.Name]
		def := defaultString(v)
		if key == "firewall.backend" { // depends on the process' capabilities
			def = "`ipset` with CAP_NET_ADMIN, else `dry-run`"
		}
		fmt.Fprintf(&rows, "| `%s` | %s | %s |\n", key, def, strings.ReplaceAll(doc, "|", `\|`))
	})
	var out bytes.Buffer
	out.WriteString(`# Configuration reference

Generated from the code by ` + "`go test ./internal/config -run TestConfigReference -args -update`" + `
(` + "`make update-golden`" + `); do not edit by hand.

vigil reads one YAML file (` + "`--config`" + `, default /etc/vigil/vigil.yaml when it
exists), then ` + "`VIGIL_*`" + ` environment variables (` + "`__`" + ` separates levels:
` + "`VIGIL_SOURCE__PATH`" + ` sets ` + "`source.path`" + `, ` + "`VIGIL_STATE_DIR`" + ` sets ` + "`state_dir`" + `; lists are
comma-separated), then ` + "`--set KEY=VALUE`" + ` flags (repeatable; e.g.
` + "`vigil run --set detect.shadow=true`" + `). Unknown keys are rejected, and every
error names its key. Durations are written like ` + "`90s`, `15m`, `2h`" + `.
` + "`vigil check-config`" + ` validates a file. Which keys take effect on SIGHUP and
which need a restart is listed in docs/OPERATIONS.md.
`)
	out.Write(rows.Bytes())
	if *updateRef {
		if err := os.WriteFile(referencePath, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(want, out.Bytes()) {
		t.Fatal("docs/CONFIG.md is out of date: run `make update-golden`")
	}
}

// walkKeys calls fn for every leaf key of a config value.
func walkKeys(v reflect.Value, prefix string, fn func(key string, f reflect.StructField, v reflect.Value, owner reflect.Type)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		fv := v.Field(i)
		if opts == "squash" {
			walkKeys(fv, prefix, fn)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Time{}) {
			walkKeys(fv, prefix+name+".", fn)
			continue
		}
		fn(prefix+name, f, fv, t)
	}
}

func defaultString(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return "`" + x.String() + "`"
	case string:
		if x == "" {
			return `""`
		}
		return "`" + x + "`"
	}
	if v.Kind() == reflect.Slice {
		if v.Len() == 0 {
			return "`[]`"
		}
		var parts []string
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if e.Kind() == reflect.Struct {
				return fmt.Sprintf("%d entries", v.Len())
			}
			parts = append(parts, fmt.Sprint(e.Interface()))
		}
		return "`[" + strings.Join(parts, ", ") + "]`"
	}
	return fmt.Sprintf("`%v`", v.Interface())
}

// fieldDocs maps "pkg.Type.Field" to the field's doc comment, read from the
// source of every package under internal/.
func fieldDocs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	dirs, _ := filepath.Glob("../*")
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			pkg := filepath.Base(dir)
			ast.Inspect(f, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return true
				}
				for _, fld := range st.Fields.List {
					doc := strings.Join(strings.Fields(fld.Doc.Text()), " ")
					for _, name := range fld.Names {
						out[pkg+"."+ts.Name.Name+"."+name.Name] = doc
					}
				}
				return false
			})
		}
	}
	return out
}
